import { Column, Entity, Index, Unique } from 'typeorm';
import type { RawObject } from '../../whatsapp/client/whatsapp.types';
import { bigintAsNumber } from './bigint.transformer';
import { Timestamped } from './timestamped';

@Entity({ name: 'chats' })
@Unique('uq_chats_session_wa_id', ['sessionId', 'waId'])
@Index('ix_chats_session_timestamp', ['sessionId', 'timestamp'])
export class ChatEntity extends Timestamped {
  @Column({ type: 'bigint', primary: true, generated: 'identity', generatedIdentity: 'BY DEFAULT', transformer: bigintAsNumber })
  id: number;

  @Column({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  /** The WhatsApp serialized chat id. */
  @Column({ name: 'wa_id', type: 'text' })
  waId: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'is_group', type: 'boolean' })
  isGroup: boolean;

  @Column({ name: 'unread_count', type: 'integer' })
  unreadCount: number;

  @Column({ type: 'bigint', nullable: true, transformer: bigintAsNumber })
  timestamp: number | null;

  @Column({ type: 'boolean' })
  archived: boolean;

  @Column({ type: 'boolean' })
  pinned: boolean;

  @Column({ type: 'jsonb' })
  raw: RawObject;
}

import { Column, Entity, Index, Unique } from 'typeorm';
import type { RawObject } from '../../whatsapp/client/whatsapp.types';
import { bigintAsNumber } from './bigint.transformer';
import { Timestamped } from './timestamped';

@Entity({ name: 'messages' })
@Unique('uq_messages_session_wa_id', ['sessionId', 'waId'])
@Index('ix_messages_chat_page', ['sessionId', 'chatId', 'timestamp', 'id'])
export class MessageEntity extends Timestamped {
  /** Database key; also the tie-breaker of the keyset cursor. */
  @Column({ type: 'bigint', primary: true, generated: 'identity', generatedIdentity: 'BY DEFAULT', transformer: bigintAsNumber })
  id: number;

  @Column({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  /** The WhatsApp serialized message id. */
  @Column({ name: 'wa_id', type: 'text' })
  waId: string;

  /** The WhatsApp serialized id of the chat the message belongs to. */
  @Column({ name: 'chat_id', type: 'text' })
  chatId: string;

  @Column({ name: 'from_me', type: 'boolean' })
  fromMe: boolean;

  @Column({ type: 'text', nullable: true })
  author: string | null;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  timestamp: number;

  @Column({ name: 'has_media', type: 'boolean' })
  hasMedia: boolean;

  /** The highest ack seen (live or fetched). */
  @Column({ type: 'integer' })
  ack: number;

  /** Unix seconds of the latest edit; `null` when never edited. */
  @Column({ name: 'edited_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  editedAt: number | null;

  /** Deleted for everyone: the row stays, its text is dropped unless KEEP_REVOKED_BODY=true. */
  @Column({ type: 'boolean', default: false })
  revoked: boolean;

  /** Unix seconds at which the deletion was seen. */
  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  revokedAt: number | null;

  @Column({ type: 'jsonb' })
  raw: RawObject;
}

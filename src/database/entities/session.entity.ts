import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SessionStatus, WaMe } from '../../whatsapp/client/whatsapp.types';
import { Timestamped } from './timestamped';

@Entity({ name: 'sessions' })
export class SessionEntity extends Timestamped {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  @Column({ type: 'varchar', length: 16 })
  status: SessionStatus;

  @Column({ type: 'jsonb', nullable: true })
  me: WaMe | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}

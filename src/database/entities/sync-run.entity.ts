import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';

export const SYNC_RUN_STATUSES = ['running', 'done', 'failed', 'interrupted'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

/** One synchronization run: its progress while it goes, its outcome after. */
@Entity({ name: 'sync_runs' })
@Index('ix_sync_runs_session_started', ['sessionId', 'startedAt'])
export class SyncRunEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  @Column({ type: 'varchar', length: 16 })
  status: SyncRunStatus;

  @Column({ name: 'limit_per_chat', type: 'integer' })
  limitPerChat: number;

  @Column({ name: 'n_chats', type: 'integer' })
  nChats: number;

  @Column({ name: 'current_chat', type: 'integer' })
  currentChat: number;

  @Column({ name: 'messages_synced', type: 'bigint', transformer: bigintAsNumber })
  messagesSynced: number;

  @Column({ name: 'chats_failed', type: 'integer' })
  chatsFailed: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

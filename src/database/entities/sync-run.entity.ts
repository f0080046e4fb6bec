import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';

export const SYNC_RUN_STATUSES = ['running', 'done', 'failed', 'interrupted'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];
/** `full`: the seed's run; `incremental`: only what is missing (README, "What a sync does"). */
export const SYNC_MODES = ['full', 'incremental'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
/** `api`: a REST call started it; `ready`: the session's transition to `ready` did (SYNC_ON_READY). */
export const SYNC_TRIGGERS = ['api', 'ready'] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

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

  @Column({ type: 'varchar', length: 16 })
  mode: SyncMode;

  @Column({ type: 'varchar', length: 16 })
  trigger: SyncTrigger;

  /** The chat of a one-chat sync (`POST .../chats/:chatId/sync`); `null` for a run over every chat. */
  @Column({ name: 'chat_id', type: 'text', nullable: true })
  chatId: string | null;

  @Column({ name: 'n_chats', type: 'integer' })
  nChats: number;

  @Column({ name: 'current_chat', type: 'integer' })
  currentChat: number;

  @Column({ name: 'messages_synced', type: 'bigint', transformer: bigintAsNumber })
  messagesSynced: number;

  @Column({ name: 'chats_failed', type: 'integer' })
  chatsFailed: number;

  @Column({ name: 'chats_skipped', type: 'integer' })
  chatsSkipped: number;

  @Column({ name: 'chats_with_gap', type: 'integer' })
  chatsWithGap: number;

  /** Rows the run created (the others it held were stored before). */
  @Column({ name: 'messages_inserted', type: 'bigint', transformer: bigintAsNumber })
  messagesInserted: number;

  /** Calls into WhatsApp the run made: the chat list, and every message fetch (each window). */
  @Column({ name: 'fetch_calls', type: 'integer' })
  fetchCalls: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

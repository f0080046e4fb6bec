import { SyncRunStatus } from '../../database/entities/sync-run.entity';

/** The answer of `POST /session/:id/sync-chats`. */
export interface SyncResult {
  success: true;
  chatsProcessed: number;
  message: 'Synchronization completed successfully';
  syncId: string;
  chatsFailed: number;
  messagesSynced: number;
  durationMs: number;
}

/** A run as `GET /session/:id/sync-chats/latest` shows it. */
export interface SyncRunView {
  syncId: string;
  status: SyncRunStatus;
  limitPerChat: number;
  nChats: number;
  currentChat: number;
  messagesSynced: number;
  chatsFailed: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
}

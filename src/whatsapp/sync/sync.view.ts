import { SyncRunEntity, SyncRunStatus } from '../../database/entities/sync-run.entity';

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

/** `GET /session/:id/sync-chats/latest`: a run as clients read it back. */
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

/** A run's row as clients read it back (a run of this process reads from its `SyncRun`, fresher). */
export function syncRunRowToView(row: SyncRunEntity): SyncRunView {
  return {
    syncId: row.id,
    status: row.status,
    limitPerChat: row.limitPerChat,
    nChats: row.nChats,
    currentChat: row.currentChat,
    messagesSynced: row.messagesSynced,
    chatsFailed: row.chatsFailed,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    ...(row.error ? { error: row.error } : {}),
  };
}

import { SyncMode, SyncRunEntity, SyncRunStatus, SyncTrigger } from '../../database/entities/sync-run.entity';

/** The answer of `POST /session/:id/sync-chats`. */
export interface SyncResult {
  success: true;
  chatsProcessed: number;
  message: 'Synchronization completed successfully';
  syncId: string;
  mode: SyncMode;
  chatsFailed: number;
  chatsSkipped: number;
  chatsWithGap: number;
  messagesSynced: number;
  messagesInserted: number;
  durationMs: number;
}

/** The answer of `POST /session/:id/chats/:chatId/sync`. */
export interface ChatSyncResult {
  success: true;
  chatId: string;
  messagesSynced: number;
  mode: SyncMode;
  /** The chat had more new messages than SYNC_CATCHUP_MAX_PER_CHAT: those between are not stored. */
  gap: boolean;
  /** Incremental: the chat was stored and nothing newer was in WhatsApp, so nothing was fetched. */
  skipped: boolean;
  messagesInserted: number;
  syncId: string;
  durationMs: number;
}

/** `GET /session/:id/sync-chats/latest`: a run as clients read it back. */
export interface SyncRunView {
  syncId: string;
  status: SyncRunStatus;
  mode: SyncMode;
  trigger: SyncTrigger;
  /** The chat of a one-chat sync; absent for a run over every chat. */
  chatId?: string;
  limitPerChat: number;
  nChats: number;
  currentChat: number;
  messagesSynced: number;
  chatsFailed: number;
  chatsSkipped: number;
  chatsWithGap: number;
  messagesInserted: number;
  /** Calls into WhatsApp: the chat list and every message fetch. */
  fetchCalls: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
}

/** A run's row as clients read it back (a run of this process reads from its `SyncRun`, fresher). */
export function syncRunRowToView(row: SyncRunEntity): SyncRunView {
  return {
    syncId: row.id,
    status: row.status,
    mode: row.mode,
    trigger: row.trigger,
    ...(row.chatId !== null ? { chatId: row.chatId } : {}),
    limitPerChat: row.limitPerChat,
    nChats: row.nChats,
    currentChat: row.currentChat,
    messagesSynced: row.messagesSynced,
    chatsFailed: row.chatsFailed,
    chatsSkipped: row.chatsSkipped,
    chatsWithGap: row.chatsWithGap,
    messagesInserted: row.messagesInserted,
    fetchCalls: row.fetchCalls,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    ...(row.error ? { error: row.error } : {}),
  };
}

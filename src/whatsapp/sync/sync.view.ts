import { SyncMode, SyncRunEntity, SyncRunStatus, SyncTrigger } from '../../database/entities/sync-run.entity';
import type { SyncChatsDonePayload } from '../events';

/** The answer of `POST /session/:id/sync-chats`: the run's `sync_chats_done`, as an HTTP answer. */
export type SyncResult = { success: true; message: 'Synchronization completed successfully' } & Omit<SyncChatsDonePayload, 'sessionId'>;

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

export interface SyncRunProgress {
  nChats: number;
  currentChat: number;
  messagesSynced: number;
  chatsFailed: number;
  /** Incremental runs: chats left alone (stored, and nothing newer in WhatsApp). */
  chatsSkipped: number;
  /** Incremental runs: chats that had more new messages than SYNC_CATCHUP_MAX_PER_CHAT. */
  chatsWithGap: number;
  /** Rows the run created, of the `messagesSynced` it stored. */
  messagesInserted: number;
  /** Calls into WhatsApp: the chat list, and every message fetch (each window of an incremental one). */
  fetchCalls: number;
}

/** `GET /session/:id/sync-chats/latest`: a run as clients read it back. */
export type SyncRunView = SyncRunProgress & {
  syncId: string;
  status: SyncRunStatus;
  mode: SyncMode;
  trigger: SyncTrigger;
  /** The chat of a one-chat sync; absent for a run over every chat. */
  chatId?: string;
  limitPerChat: number;
  startedAt: string;
  finishedAt: string | null;
  error?: string;
};

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

import { SessionStatus, WaMessage } from './client/whatsapp.types';

/** `sync_chats`: progress of a run (README.md, "Socket.IO events", gives the exact order). */
export interface SyncChatsPayload {
  sessionId: string;
  nChats: number;
  /** 0 before the first chat, then k = 1..nChats. `currentChat / nChats` is the progress fraction. */
  currentChat: number;
  chatId?: string;
  messagesSynced?: number;
  /** Set on the second event of a chat that failed. */
  error?: string;
}

export interface SyncChatsDonePayload {
  sessionId: string;
  syncId: string;
  chatsProcessed: number;
  chatsFailed: number;
  messagesSynced: number;
  durationMs: number;
}

export interface SyncChatsFailedPayload {
  sessionId: string;
  syncId: string;
  error: string;
}

export interface SessionStatusPayload {
  sessionId: string;
  status: SessionStatus;
  error?: string;
}

export interface QrPayload {
  sessionId: string;
  qr: string;
  dataUrl: string;
}

/** A stored message as clients see it (REST and the `message` event): the typed fields, no raw. */
export type MessageView = Omit<WaMessage, 'raw'>;

export interface MessagePayload {
  sessionId: string;
  message: MessageView;
}

/** Every event the server sends to a session's room, by name. */
export interface ServerToClientEvents {
  sync_chats: (payload: SyncChatsPayload) => void;
  sync_chats_done: (payload: SyncChatsDonePayload) => void;
  sync_chats_failed: (payload: SyncChatsFailedPayload) => void;
  session_status: (payload: SessionStatusPayload) => void;
  qr: (payload: QrPayload) => void;
  message: (payload: MessagePayload) => void;
}

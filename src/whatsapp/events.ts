import { MessageView } from './chats/chat.view';
import { SessionStatus } from './client/whatsapp.types';
import { SyncMode } from '../database/entities/sync-run.entity';

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
  /** `true` on the second event of a chat an incremental run could not bring up to date (SYNC_CATCHUP_MAX_PER_CHAT); absent otherwise. */
  gap?: true;
}

export interface SyncChatsDonePayload {
  sessionId: string;
  syncId: string;
  mode: SyncMode;
  /** Chats the run went through (fetched, or failed), as `nChats`. */
  chatsProcessed: number;
  chatsFailed: number;
  chatsSkipped: number;
  chatsWithGap: number;
  messagesSynced: number;
  /** Of `messagesSynced`, the rows that are new. */
  messagesInserted: number;
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

export interface MessagePayload {
  sessionId: string;
  message: MessageView;
}

/** `message_update`: the whole view of a stored message after a change to it (edit, deletion, reaction, ack) was stored. */
export interface MessageUpdatePayload {
  sessionId: string;
  message: MessageView;
}

/** Every event the service publishes about a session, by name: the one map that types them all. */
export interface SessionEvents {
  sync_chats: SyncChatsPayload;
  sync_chats_done: SyncChatsDonePayload;
  sync_chats_failed: SyncChatsFailedPayload;
  session_status: SessionStatusPayload;
  qr: QrPayload;
  message: MessagePayload;
  message_update: MessageUpdatePayload;
}

export type SessionEventName = keyof SessionEvents;

/** One published event: its session, name and payload (a union, so that a `switch` on `event` narrows it). */
export type PublishedEvent = { [E in SessionEventName]: { sessionId: string; event: E; payload: SessionEvents[E] } }[SessionEventName];

/** The same map in Socket.IO's form, for the typed server. */
export type ServerToClientEvents = { [E in SessionEventName]: (payload: SessionEvents[E]) => void };

/** Where a `message` a webhook carries came from: live traffic, or an incremental run catching up. */
export type MessageSource = 'live' | 'catch-up';

/**
 * The events a webhook may carry, with what it carries of each: the Socket.IO payload, and for
 * `message` its `source`.
 */
export interface DurableEvents {
  message: MessagePayload & { source: MessageSource };
  message_update: MessageUpdatePayload;
  session_status: SessionStatusPayload;
  sync_chats_done: SyncChatsDonePayload;
  sync_chats_failed: SyncChatsFailedPayload;
}

export type DurableEventName = keyof DurableEvents;

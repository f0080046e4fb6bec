import { WaChat, WaMessage } from '../whatsapp.types';
import type { SimulatedAccount, SimulatedChat, SimulatedMessageSpec } from './simulated-account';
import { mediaRawFields } from './simulated-media';

/**
 * The simulated account's live traffic (README.md, "Simulated account"): the optional top-level
 * `"live"` list, played once each time a session becomes `ready`, each entry `afterMs` after it.
 * What it plays becomes part of the account: a later fetch returns the message, the edited text, the
 * deletion, the ack.
 */
export type SimulatedLiveEvent =
  | { afterMs: number; type: 'message'; chatId: string; message: SimulatedMessageSpec }
  | { afterMs: number; type: 'edit'; messageId: string; body: string }
  | { afterMs: number; type: 'revoke'; messageId: string }
  | { afterMs: number; type: 'reaction'; messageId: string; senderId: string; emoji: string }
  | { afterMs: number; type: 'ack'; messageId: string; ack: number };

export const LIVE_EVENT_TYPES = ['message', 'edit', 'revoke', 'reaction', 'ack'] as const;

/** What changed in the account when a live event was played, for the client to report. */
export type PlayedEvent =
  | { type: 'message'; message: WaMessage }
  | { type: 'edit'; messageId: string; chatId: string; body: string; editedAt: number }
  | { type: 'revoke'; messageId: string; chatId: string; revokedAt: number }
  | { type: 'reaction'; messageId: string; chatId: string; senderId: string; emoji: string; timestamp: number }
  | { type: 'ack'; messageId: string; chatId: string; ack: number };

interface MessageChanges {
  body?: string;
  editedAt?: number;
  revoked?: boolean;
  ack?: number;
}

/** The account as live traffic changed it: messages added per chat, changes per message, reactions. */
class LiveState {
  readonly added = new Map<string, WaMessage[]>();
  readonly changes = new Map<string, MessageChanges>();
  /** message id -> sender -> emoji. */
  readonly reactions = new Map<string, Map<string, string>>();
  private chatOfMessage: Map<string, string> | undefined;

  constructor(private readonly account: SimulatedAccount) {}

  /** The chat that holds a message, from the account's messages and those played so far. */
  chatOf(messageId: string): string | undefined {
    if (!this.chatOfMessage) {
      // Built once, on the first change played: accounts with live traffic are small files.
      this.chatOfMessage = new Map();
      for (const c of this.account.chats) for (const m of c.newestMessages(Number.MAX_SAFE_INTEGER)) this.chatOfMessage.set(m.id, c.chat.id);
      for (const [chatId, list] of this.added) for (const m of list) this.chatOfMessage.set(m.id, chatId);
    }
    return this.chatOfMessage.get(messageId);
  }

  add(message: WaMessage): void {
    const list = this.added.get(message.chatId) ?? [];
    this.added.set(message.chatId, [...list.filter((m) => m.id !== message.id), message]);
    this.chatOfMessage?.set(message.id, message.chatId);
  }

  change(messageId: string, change: MessageChanges): void {
    this.changes.set(messageId, { ...this.changes.get(messageId), ...change });
  }
}

const states = new WeakMap<SimulatedAccount, LiveState>();
function stateOf(account: SimulatedAccount): LiveState {
  let state = states.get(account);
  if (!state) states.set(account, (state = new LiveState(account)));
  return state;
}

/**
 * Plays one live event into the account at `now` (Unix seconds) and answers what to report, or
 * `undefined` for a change to a message the account does not have (the file check refuses those).
 */
export function playLiveEvent(account: SimulatedAccount, event: SimulatedLiveEvent, now: number): PlayedEvent | undefined {
  const state = stateOf(account);
  if (event.type === 'message') {
    const message = toLiveMessage(event.chatId, event.message);
    state.add(message);
    return { type: 'message', message };
  }
  const chatId = state.chatOf(event.messageId);
  if (chatId === undefined) return undefined;
  const { messageId } = event;
  switch (event.type) {
    case 'edit':
      state.change(messageId, { body: event.body, editedAt: now });
      return { type: 'edit', messageId, chatId, body: event.body, editedAt: now };
    case 'revoke':
      state.change(messageId, { revoked: true });
      return { type: 'revoke', messageId, chatId, revokedAt: now };
    case 'reaction': {
      const senders = state.reactions.get(messageId) ?? new Map<string, string>();
      if (event.emoji === '') senders.delete(event.senderId);
      else senders.set(event.senderId, event.emoji);
      state.reactions.set(messageId, senders);
      return { type: 'reaction', messageId, chatId, senderId: event.senderId, emoji: event.emoji, timestamp: now };
    }
    case 'ack':
      state.change(messageId, { ack: event.ack });
      return { type: 'ack', messageId, chatId, ack: event.ack };
  }
}

/** The newest `limit` messages of a chat, oldest first, as live traffic left them. */
export function liveMessages(account: SimulatedAccount, chat: SimulatedChat, limit: number): WaMessage[] {
  const state = states.get(account);
  if (!state) return chat.newestMessages(limit);
  const added = state.added.get(chat.chat.id) ?? [];
  let messages = chat.newestMessages(limit);
  if (added.length > 0) {
    const addedIds = new Set(added.map((m) => m.id));
    messages = [...messages.filter((m) => !addedIds.has(m.id)), ...added].sort((a, b) => a.timestamp - b.timestamp);
    messages = messages.slice(Math.max(0, messages.length - limit));
  }
  return state.changes.size === 0 ? messages : messages.map((m) => withChanges(m, state.changes.get(m.id)));
}

/** A chat as live traffic left it: its timestamp is that of its newest message, at least. */
export function liveChat(account: SimulatedAccount, chat: SimulatedChat): WaChat {
  const added = states.get(account)?.added.get(chat.chat.id);
  if (!added?.length) return chat.chat;
  const newest = Math.max(...added.map((m) => m.timestamp));
  if (chat.chat.timestamp !== null && chat.chat.timestamp >= newest) return chat.chat;
  return { ...chat.chat, timestamp: newest, raw: { ...chat.chat.raw, timestamp: newest } };
}

/** A message as whatsapp-web.js shows it after the changes: an edit's text and time, a deletion (`revoked`, no text), the ack. */
function withChanges(message: WaMessage, changes: MessageChanges | undefined): WaMessage {
  if (!changes) return message;
  const changed: WaMessage = { ...message, raw: { ...message.raw } };
  if (changes.body !== undefined) {
    changed.body = changed.raw.body = changes.body;
    changed.editedAt = changed.raw.editedAt = changes.editedAt;
  }
  if (changes.ack !== undefined) changed.ack = changed.raw.ack = changes.ack;
  if (changes.revoked) {
    changed.type = changed.raw.type = 'revoked';
    changed.body = changed.raw.body = '';
    changed.hasMedia = changed.raw.hasMedia = false;
  }
  return changed;
}

function toLiveMessage(chatId: string, spec: SimulatedMessageSpec): WaMessage {
  const { id, fromMe, author, body, type, timestamp, ack, media, ...rest } = spec;
  const hasMedia = spec.hasMedia || media !== undefined;
  // The bytes stay with the account (a download asks for them); the raw data has what WhatsApp's has.
  const raw = { ...rest, id, fromMe, author, body, type, timestamp, hasMedia, ack, ...mediaRawFields(media), from: fromMe ? 'me' : chatId, to: fromMe ? chatId : 'me' };
  return { id, chatId, fromMe, author, body, type, timestamp, hasMedia, ack, raw };
}

/**
 * Checks the references of a live list: a `message` names a chat of the account, every other entry
 * a message of the account or of an earlier `message` entry. Throws naming the entry.
 */
export function checkLiveReferences(live: readonly SimulatedLiveEvent[], chats: ReadonlyArray<{ id: string; messages: ReadonlyArray<{ id: string }> }>, where: string): void {
  const chatIds = new Set(chats.map((c) => c.id));
  const messageIds = new Set(chats.flatMap((c) => c.messages.map((m) => m.id)));
  live.forEach((event, index) => {
    if (event.type === 'message') {
      if (!chatIds.has(event.chatId)) throw new Error(`${where}: live[${index}].chatId "${event.chatId}" is not a chat of the account`);
      messageIds.add(event.message.id);
    } else if (!messageIds.has(event.messageId)) {
      throw new Error(`${where}: live[${index}].messageId "${event.messageId}" is not a message of the account or of an earlier live message`);
    }
  });
}

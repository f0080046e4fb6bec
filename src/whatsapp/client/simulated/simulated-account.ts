import { readFileSync } from 'node:fs';
import { RawObject, WaChat, WaMessage } from '../whatsapp.types';
import { LIVE_EVENT_TYPES, SimulatedLiveEvent, checkLiveReferences } from './simulated-live';
import { SimulatedMediaSpec, mediaRawFields, parseMediaSpec } from './simulated-media';

/** A message as written in a `SIMULATED_ACCOUNT` file (README.md, "Simulated account"); with `media`, `hasMedia` is true. */
export type SimulatedMessageSpec = Omit<WaMessage, 'chatId' | 'raw'> & { media?: SimulatedMediaSpec };

export type SimulatedChatSpec = Omit<WaChat, 'raw'> & {
  failFetch: boolean;
  messages: SimulatedMessageSpec[];
};

export interface SimulatedAccountSpec {
  scanAfterMs: number;
  fetchLatencyMs: number;
  chats: SimulatedChatSpec[];
  /** Live traffic played after each `ready` (see simulated-live.ts). */
  live?: SimulatedLiveEvent[];
}

/**
 * A chat of the simulated account. Messages are produced on demand so that a generated account of a
 * million messages costs no memory until a sync asks for them.
 */
export interface SimulatedChat {
  readonly chat: WaChat;
  readonly failFetch: boolean;
  /** The newest `limit` messages, oldest first. */
  newestMessages(limit: number): WaMessage[];
}

export interface SimulatedAccount {
  scanAfterMs: number;
  fetchLatencyMs: number;
  chats: SimulatedChat[];
  /** Live traffic played after each `ready` (see simulated-live.ts). */
  live?: readonly SimulatedLiveEvent[];
  /** The media of a message of the account (or of its live traffic), what a download answers. */
  mediaOf?(messageId: string): SimulatedMediaSpec | undefined;
}

/** Built field by field rather than by spreading: the benchmarks make millions of these. */
export function toWaMessage(chatId: string, spec: SimulatedMessageSpec): WaMessage {
  const { id, fromMe, author, body, type, timestamp, hasMedia, ack } = spec;
  const raw: RawObject = { id, fromMe, author, body, type, timestamp, hasMedia, ack, from: fromMe ? 'me' : chatId, to: fromMe ? chatId : 'me' };
  if (spec.media) Object.assign(raw, mediaRawFields(spec.media));
  const message: WaMessage = { id, chatId, fromMe, author, body, type, timestamp, hasMedia, ack, raw };
  if (spec.editedAt != null) message.editedAt = raw.editedAt = spec.editedAt;
  return message;
}

/** The account's chats by id, built once per account. */
const chatIndexes = new WeakMap<SimulatedAccount, Map<string, SimulatedChat>>();
export function chatById(account: SimulatedAccount, chatId: string): SimulatedChat | undefined {
  let index = chatIndexes.get(account);
  if (!index) {
    index = new Map(account.chats.map((c) => [c.chat.id, c]));
    chatIndexes.set(account, index);
  }
  return index.get(chatId);
}

/** An account from explicit data (a file, or a test's fixture); throws for a live entry naming what the account lacks. */
export function accountFromSpec(spec: SimulatedAccountSpec): SimulatedAccount {
  if (spec.live) checkLiveReferences(spec.live, spec.chats, 'the account');
  const media = new Map<string, SimulatedMediaSpec>();
  for (const chat of spec.chats) for (const m of chat.messages) if (m.media) media.set(m.id, m.media);
  for (const event of spec.live ?? []) if (event.type === 'message' && event.message.media) media.set(event.message.id, event.message.media);
  return {
    scanAfterMs: spec.scanAfterMs,
    fetchLatencyMs: spec.fetchLatencyMs,
    ...(spec.live ? { live: spec.live } : {}),
    mediaOf: (messageId) => media.get(messageId),
    chats: spec.chats.map((chatSpec) => {
      const sorted = [...chatSpec.messages].sort((a, b) => a.timestamp - b.timestamp);
      const { messages: _messages, failFetch, ...fields } = chatSpec;
      return {
        chat: { ...fields, raw: { ...fields } },
        failFetch,
        newestMessages: (limit) => sorted.slice(Math.max(0, sorted.length - limit)).map((m) => toWaMessage(chatSpec.id, m)),
      };
    }),
  };
}

/** Reads and checks a `SIMULATED_ACCOUNT` file; throws with the path and the offending field. */
export function loadAccountFile(path: string): SimulatedAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`SIMULATED_ACCOUNT ${path}: ${(error as Error).message}`);
  }
  return accountFromSpec(parseAccountSpec(parsed, `SIMULATED_ACCOUNT ${path}`));
}

export function parseAccountSpec(value: unknown, where: string): SimulatedAccountSpec {
  const root = asObject(value, where);
  const chats = root.chats;
  if (!Array.isArray(chats)) throw new Error(`${where}: "chats" must be an array`);
  const spec: SimulatedAccountSpec = {
    scanAfterMs: optionalNumber(root.scanAfterMs, 500, `${where}: scanAfterMs`),
    fetchLatencyMs: optionalNumber(root.fetchLatencyMs, 0, `${where}: fetchLatencyMs`),
    chats: chats.map((chat, index) => parseChat(chat, `${where}: chats[${index}]`)),
  };
  if (root.live === undefined) return spec;
  if (!Array.isArray(root.live)) throw new Error(`${where}: "live" must be an array`);
  spec.live = root.live.map((event, index) => parseLiveEvent(event, `${where}: live[${index}]`));
  checkLiveReferences(spec.live, spec.chats, where);
  return spec;
}

/** One entry of the `"live"` list, with the fields its `type` needs (README.md, "Simulated account"). */
function parseLiveEvent(value: unknown, where: string): SimulatedLiveEvent {
  const event = asObject(value, where);
  const afterMs = optionalNumber(event.afterMs, 0, `${where}.afterMs`);
  if (afterMs < 0) throw new Error(`${where}.afterMs must be a number of milliseconds, 0 or more`);
  const type = event.type;
  if (typeof type !== 'string' || !(LIVE_EVENT_TYPES as readonly string[]).includes(type)) {
    throw new Error(`${where}.type must be one of ${LIVE_EVENT_TYPES.join(', ')}`);
  }
  if (type === 'message') {
    return { afterMs, type, chatId: requireString(event.chatId, `${where}.chatId`), message: parseMessage(event.message, `${where}.message`) };
  }
  const messageId = requireString(event.messageId, `${where}.messageId`);
  switch (type) {
    case 'edit':
      if (typeof event.body !== 'string') throw new Error(`${where}.body must be a string`);
      return { afterMs, type, messageId, body: event.body };
    case 'revoke':
      return { afterMs, type, messageId };
    case 'reaction':
      if (typeof event.emoji !== 'string') throw new Error(`${where}.emoji must be a string ("" removes the reaction)`);
      return { afterMs, type, messageId, senderId: requireString(event.senderId, `${where}.senderId`), emoji: event.emoji };
    default:
      if (typeof event.ack !== 'number' || !Number.isInteger(event.ack) || event.ack < -1 || event.ack > 4) {
        throw new Error(`${where}.ack must be an integer from -1 to 4`);
      }
      return { afterMs, type: 'ack', messageId, ack: event.ack };
  }
}

function parseChat(value: unknown, where: string): SimulatedChatSpec {
  const chat = asObject(value, where);
  const id = requireString(chat.id, `${where}.id`);
  const messages = chat.messages ?? [];
  if (!Array.isArray(messages)) throw new Error(`${where}.messages must be an array`);
  return {
    id,
    name: typeof chat.name === 'string' ? chat.name : id,
    isGroup: chat.isGroup === true || id.endsWith('@g.us'),
    unreadCount: optionalNumber(chat.unreadCount, 0, `${where}.unreadCount`),
    timestamp: chat.timestamp === null || chat.timestamp === undefined ? null : optionalNumber(chat.timestamp, 0, `${where}.timestamp`),
    archived: chat.archived === true,
    pinned: chat.pinned === true,
    failFetch: chat.failFetch === true,
    messages: messages.map((message, index) => parseMessage(message, `${where}.messages[${index}]`)),
  };
}

function parseMessage(value: unknown, where: string): SimulatedMessageSpec {
  const message = asObject(value, where);
  return {
    id: requireString(message.id, `${where}.id`),
    fromMe: message.fromMe === true,
    author: typeof message.author === 'string' ? message.author : null,
    body: typeof message.body === 'string' ? message.body : '',
    type: typeof message.type === 'string' ? message.type : 'chat',
    timestamp: optionalNumber(message.timestamp, 0, `${where}.timestamp`),
    hasMedia: message.hasMedia === true || message.media !== undefined,
    ack: optionalNumber(message.ack, 0, `${where}.ack`),
    ...(message.editedAt === undefined ? {} : { editedAt: optionalNumber(message.editedAt, 0, `${where}.editedAt`) }),
    ...(message.media === undefined ? {} : { media: parseMediaSpec(message.media, `${where}.media`) }),
  };
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object`);
  return value as Record<string, unknown>;
}

function requireString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${where} must be a non-empty string`);
  return value;
}

function optionalNumber(value: unknown, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where} must be a number`);
  return value;
}

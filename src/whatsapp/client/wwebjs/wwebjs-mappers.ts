import type WAWebJS from 'whatsapp-web.js';
import { RawObject, WaChat, WaMe, WaMedia, WaMessage, WaMessageEdit, WaMessageRevoke, WaReaction } from '../whatsapp.types';

/*
 * Pure translations from whatsapp-web.js objects (typed by its index.d.ts) to the service's types.
 * The library's objects hold a reference to the client, so `raw` is built from plain data only.
 */

/** A wid in the page is sometimes a string, sometimes `{server, user, _serialized}`. */
type WidLike = string | { _serialized?: string; user?: string; server?: string } | null | undefined;

export function serializeWid(wid: WidLike): string | null {
  if (typeof wid === 'string') return wid;
  if (wid && typeof wid === 'object') {
    if (typeof wid._serialized === 'string') return wid._serialized;
    if (wid.user && wid.server) return `${wid.user}@${wid.server}`;
  }
  return null;
}

export function mapChat(chat: WAWebJS.Chat): WaChat {
  const id = serializeWid(chat.id as WidLike) ?? '';
  const raw: RawObject = {
    id,
    name: chat.name ?? null,
    isGroup: chat.isGroup === true,
    isReadOnly: chat.isReadOnly ?? null,
    unreadCount: chat.unreadCount ?? 0,
    timestamp: chat.timestamp ?? null,
    archived: chat.archived === true,
    pinned: chat.pinned === true,
    isMuted: chat.isMuted ?? null,
    muteExpiration: chat.muteExpiration ?? null,
    lastMessageId: chat.lastMessage ? serializeWid(chat.lastMessage.id as WidLike) : null,
  };
  if (chat.isGroup) Object.assign(raw, groupFields(chat as WAWebJS.GroupChat));
  return {
    id,
    // A chat with no saved name (an unknown number) has an empty title in the page.
    name: chat.name || id.split('@')[0],
    isGroup: chat.isGroup === true,
    unreadCount: toCount(chat.unreadCount),
    timestamp: toSeconds(chat.timestamp),
    archived: chat.archived === true,
    pinned: chat.pinned === true,
    raw,
  };
}

/** The library's group getters read `groupMetadata`, which the page may not have loaded: they can throw. */
function groupFields(chat: WAWebJS.GroupChat): RawObject {
  const participantList = read(() => chat.participants);
  const participants = Array.isArray(participantList) ? participantList : [];
  const createdAt = read(() => chat.createdAt);
  return {
    owner: serializeWid(read(() => chat.owner) as WidLike),
    description: read(() => chat.description) ?? null,
    createdAt: createdAt instanceof Date && !Number.isNaN(createdAt.getTime()) ? createdAt.toISOString() : null,
    participants: participants.map((p) => ({
      id: serializeWid(p.id as WidLike),
      isAdmin: p.isAdmin === true,
      isSuperAdmin: p.isSuperAdmin === true,
    })),
  };
}

function read<T>(getter: () => T): T | undefined {
  try {
    return getter();
  } catch {
    return undefined;
  }
}

export function mapMessage(message: WAWebJS.Message): WaMessage {
  const id = message.id ?? ({} as WAWebJS.MessageId);
  const chatId = serializeWid(id.remote as WidLike) ?? (message.fromMe ? message.to : message.from) ?? '';
  return {
    id: id._serialized ?? `${message.fromMe}_${chatId}_${id.id ?? ''}`,
    chatId,
    fromMe: message.fromMe === true,
    author: message.author || null,
    body: typeof message.body === 'string' ? message.body : '',
    type: typeof message.type === 'string' ? message.type : 'unknown',
    timestamp: toSeconds(message.timestamp) ?? 0,
    hasMedia: message.hasMedia === true,
    ack: typeof message.ack === 'number' ? message.ack : 0,
    editedAt: editedAtOf(message),
    raw: messageRaw(message),
  };
}

/** The latest edit's time, from the public `latestEditSenderTimestampMs` (milliseconds) that the library copies from the page. */
function editedAtOf(message: WAWebJS.Message): number | null {
  const ms = message.latestEditSenderTimestampMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? Math.trunc(ms / 1000) : null;
}

/**
 * `fetchMessages` answers "the newest N", sorted by `t` (whole seconds) only when it over-fetched,
 * with random ids: ordered here by (timestamp, id), each id once (the last serialization wins).
 */
export function orderMessages(messages: readonly WaMessage[]): WaMessage[] {
  const byId = new Map<string, WaMessage>();
  for (const message of messages) {
    byId.delete(message.id);
    byId.set(message.id, message);
  }
  return [...byId.values()].sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * `message_edit(message, newBody, prevBody)`: `message` is already in its edited state. The edit's
 * time is its `latestEditSenderTimestampMs`, else `now` (Unix seconds) when the page gave none.
 */
export function mapEdit(message: WAWebJS.Message, newBody: unknown, now: number): WaMessageEdit | undefined {
  const { id, chatId } = mapMessage(message);
  if (!id || !chatId) return undefined;
  const body = typeof newBody === 'string' ? newBody : newBody instanceof String ? newBody.toString() : typeof message.body === 'string' ? message.body : '';
  return { messageId: id, chatId, body, editedAt: editedAtOf(message) ?? now };
}

/**
 * `message_revoke_everyone(message, revokedMsg)`: `message` is the message in its revoked state
 * (type `revoked`, no text); `protocolMessageKey`, when the page gives it, is the key of the message
 * deleted. `revokedMsg` (the original, often undefined) is not needed: the stored row has the text.
 */
export function mapRevoke(message: WAWebJS.Message, now: number): WaMessageRevoke | undefined {
  const mapped = mapMessage(message);
  const target = message.protocolMessageKey;
  const messageId = (target && serializeWid(target as WidLike)) || mapped.id;
  const chatId = (target && serializeWid(target.remote as WidLike)) || mapped.chatId;
  if (!messageId || !chatId) return undefined;
  return { messageId, chatId, revokedAt: now };
}

/** `message_reaction(reaction)`: `msgId` is the parent message's key, `reaction` the emoji (`""` when removed), `timestamp` seconds. */
export function mapReaction(reaction: WAWebJS.Reaction): WaReaction | undefined {
  const messageId = serializeWid(reaction.msgId as WidLike);
  const chatId = serializeWid(reaction.msgId?.remote as WidLike);
  const senderId = typeof reaction.senderId === 'string' ? reaction.senderId : serializeWid(reaction.senderId as WidLike);
  if (!messageId || !chatId || !senderId) return undefined;
  return {
    messageId,
    chatId,
    senderId,
    emoji: typeof reaction.reaction === 'string' ? reaction.reaction : '',
    timestamp: toSeconds(reaction.timestamp) ?? 0,
  };
}

/** The page's own message data (`rawData`), plus the fields the library derives from it. */
function messageRaw(message: WAWebJS.Message): RawObject {
  const data = message.rawData;
  const base: RawObject = data !== null && typeof data === 'object' ? { ...(data as RawObject) } : {};
  return {
    ...base,
    hasQuotedMsg: message.hasQuotedMsg === true,
    isForwarded: message.isForwarded === true,
    forwardingScore: message.forwardingScore ?? 0,
    isStarred: message.isStarred === true,
    isStatus: message.isStatus === true,
    mentionedIds: Array.isArray(message.mentionedIds) ? message.mentionedIds : [],
  };
}

/** `message.downloadMedia()`'s answer: `undefined` (or no data) when WhatsApp no longer has the file. */
export function mapMedia(media: WAWebJS.MessageMedia | undefined): WaMedia | null {
  if (!media || typeof media.data !== 'string' || media.data === '') return null;
  return { mimetype: typeof media.mimetype === 'string' ? media.mimetype : '', dataBase64: media.data, filename: typeof media.filename === 'string' && media.filename !== '' ? media.filename : null };
}

export function mapMe(info: WAWebJS.ClientInfo | undefined): WaMe | null {
  if (!info) return null;
  const id = serializeWid(info.wid as WidLike);
  return id ? { id, pushName: info.pushname ?? null } : null;
}

function toSeconds(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function toCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.trunc(value) : 0;
}

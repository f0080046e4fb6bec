import { WaChat, WaMessage } from '../client/whatsapp.types';
import { NewestStored } from '../storage/chat.repository';

/*
 * The decisions of an incremental run, as pure functions: which chats to fetch, and how far back to
 * fetch a chat that has stored messages when the provider only knows "the newest N".
 */

/** Each fetch window is this many times the previous one, up to the bound. */
export const WINDOW_GROWTH = 4;

/**
 * Whether an incremental run leaves the chat alone: it has stored messages and WhatsApp's
 * `timestamp` (its last activity) is not newer than the newest of them. A chat without a timestamp
 * cannot be told unchanged, so it is fetched.
 */
export function isUnchanged(chat: WaChat, newest: NewestStored): boolean {
  return newest !== null && chat.timestamp !== null && chat.timestamp <= newest.timestamp;
}

/** What was fetched of a chat since its stored history, oldest first, and whether some is missing. */
export interface CatchUp {
  messages: WaMessage[];
  /** More than `maxNew` messages are newer than the stored history: those between are not stored. */
  gap: boolean;
}

/**
 * The messages of a chat from its stored history to the present: newest-first windows, each
 * `WINDOW_GROWTH` times the last (the first `firstWindow`), until a window reaches the stored history
 * (holds the newest stored message, or one older than it), comes back short (WhatsApp has nothing
 * older), or would pass `maxNew` new messages: then the newest `maxNew` are kept and `gap` is set.
 * A window of `maxNew + 1` tells a chat of exactly `maxNew` new messages from one with more.
 */
export async function fetchSinceStored(
  fetch: (limit: number) => Promise<WaMessage[]>,
  newest: { id: string; timestamp: number },
  firstWindow: number,
  maxNew: number,
): Promise<CatchUp> {
  const bound = maxNew + 1;
  let window = Math.max(1, Math.min(firstWindow, bound));
  for (;;) {
    const messages = await fetch(window);
    if (messages.length < window || reachesStored(messages, newest)) return { messages, gap: false };
    if (window >= bound) return { messages: newestOf(messages, maxNew), gap: true };
    window = Math.min(window * WINDOW_GROWTH, bound);
  }
}

function reachesStored(messages: readonly WaMessage[], newest: { id: string; timestamp: number }): boolean {
  return messages.some((m) => m.id === newest.id || m.timestamp < newest.timestamp);
}

/** The newest `count` messages by (timestamp, id), oldest first. */
function newestOf(messages: readonly WaMessage[], count: number): WaMessage[] {
  const sorted = [...messages].sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.slice(Math.max(0, sorted.length - count));
}

import { createHash } from 'node:crypto';
import type { SimulatedAccount, SimulatedChat } from '../src/whatsapp/client/simulated/simulated-account';
import { toWaMessage } from '../src/whatsapp/client/simulated/simulated-account';
import type { SimulatedMediaSpec } from '../src/whatsapp/client/simulated/simulated-media';

/** The media bench's account, as the bench tells its server process (JSON in BENCH_MEDIA_ACCOUNT). */
export interface MediaAccountOptions {
  chats: number;
  messagesPerChat: number;
  /** Every this many messages of a chat has media (1: all of them). */
  mediaEvery: number;
  minBytes: number;
  maxBytes: number;
}

const BASE = 1_764_150_000;
const MAX_FILE = 4 * 1024 * 1024;

/** Random bytes that every file is a slice of, after a header of its own (so that no two are alike). */
let pool: Buffer | undefined;
function poolOf(): Buffer {
  if (!pool) {
    pool = Buffer.alloc(MAX_FILE);
    for (let offset = 0; offset < MAX_FILE; offset += 32) createHash('sha256').update(String(offset)).digest().copy(pool, offset);
  }
  return pool;
}

/** The size of media number `n`: spread evenly over [minBytes, maxBytes]. */
export function mediaSize(options: MediaAccountOptions, n: number): number {
  const span = options.maxBytes - options.minBytes;
  return options.minBytes + Math.floor(((n * 7919) % 1000) / 999 * span);
}

const idOf = (chatId: string, n: number) => `false_${chatId}_MEDIA${String(n).padStart(6, '0')}`;

/**
 * A generated account whose media messages download as distinct files of 100 KB to 2 MB (by
 * default), produced when asked for: the account itself holds none of them.
 */
export function mediaAccount(options: MediaAccountOptions): SimulatedAccount {
  const chats: SimulatedChat[] = [];
  const sizes = new Map<string, number>();
  let mediaCount = 0;
  for (let c = 0; c < options.chats; c++) {
    const id = `${16660000000 + c}@c.us`;
    const messages = Array.from({ length: options.messagesPerChat }, (_, n) => {
      const hasMedia = n % options.mediaEvery === 0;
      const messageId = idOf(id, n);
      if (hasMedia) sizes.set(messageId, mediaSize(options, mediaCount++));
      return { id: messageId, fromMe: false, author: null, body: hasMedia ? '' : `text ${n}`, type: hasMedia ? 'image' : 'chat', timestamp: BASE - (options.messagesPerChat - n) * 60, hasMedia, ack: 0 };
    });
    const fields = { id, name: `Media ${c}`, isGroup: false, unreadCount: 0, timestamp: BASE, archived: false, pinned: false };
    chats.push({
      chat: { ...fields, raw: { ...fields } },
      failFetch: false,
      newestMessages: (limit) =>
        messages.slice(Math.max(0, messages.length - limit)).map((m) => {
          const message = toWaMessage(id, m);
          if (m.hasMedia) Object.assign(message.raw, { mimetype: 'image/jpeg', size: sizes.get(m.id) });
          return message;
        }),
    });
  }
  return {
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats,
    mediaOf(messageId): SimulatedMediaSpec | undefined {
      const size = sizes.get(messageId);
      if (size === undefined) return undefined;
      const header = createHash('sha256').update(messageId).digest();
      const bytes = Buffer.concat([header, poolOf().subarray(0, size - header.length)]);
      return { mimetype: 'image/jpeg', filename: null, dataBase64: bytes.toString('base64') };
    },
  };
}

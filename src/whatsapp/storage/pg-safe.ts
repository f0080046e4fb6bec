
/**
 * PostgreSQL refuses `\u0000` in `text` and `jsonb`, and a lone UTF-16 surrogate in `jsonb`.
 * WhatsApp data can hold both: NULs are removed, lone surrogates replaced by U+FFFD, and
 * everything else is kept.
 */
export function pgSafeText(value: string): string {
  const withoutNul = value.includes('\u0000') ? value.replace(/\u0000/g, '') : value;
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

/**
 * The longest chat id that is stored, in UTF-8 bytes as stored (after `pgSafeText`). Real WhatsApp
 * ids are well under 100 bytes; without a cap, an id past PostgreSQL's btree row limit (2,704 bytes
 * for the whole index row, unless the text compresses) fails the insert of every chat in its batch,
 * and with it the whole sync. A message id embeds its chat id, so the cap leaves room for message
 * ids too. The REST route of a chat's messages accepts exactly the ids this lets through (see
 * `isStorableChatIdParam`).
 */
export const MAX_CHAT_ID_BYTES = 1024;

/** Whether a chat id from WhatsApp is stored: non-empty and at most `MAX_CHAT_ID_BYTES` once made storable. */
export function isStorableChatId(id: string): boolean {
  const stored = pgSafeText(id);
  return stored.length > 0 && Buffer.byteLength(stored, 'utf8') <= MAX_CHAT_ID_BYTES;
}

/**
 * Whether a chat id given by a client can be one that is stored: the stored ids are exactly the
 * non-empty, well-formed strings without NUL of at most `MAX_CHAT_ID_BYTES` bytes.
 */
export function isStorableChatIdParam(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\u0000') && value.isWellFormed() && isStorableChatId(value);
}

/**
 * JSON text for a `jsonb` parameter, with every string (keys included) made storable. JSON.stringify
 * writes NUL and lone surrogates as `\u0000` and `\udXXX` escapes (a well-formed pair it writes as is),
 * so the per-value replacer runs only when the plain text shows one of them.
 */
export function pgSafeJson(value: object): string {
  const plain = plainJson(value);
  return NEEDS_REPLACER.test(plain) ? sanitizedJson(value) : plain;
}

/**
 * JSON.stringify without a replacer (a replacer makes it several times slower, and this runs for
 * every message a sync stores); only a value holding a BigInt, which it refuses, takes the slow way.
 */
function plainJson(value: object): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError) return JSON.stringify(value, bigintAsString);
    throw error;
  }
}

const NEEDS_REPLACER = /\\u(0000|d[89a-f])/i;

function bigintAsString(_key: string, item: unknown): unknown {
  return typeof item === 'bigint' ? item.toString() : item;
}

function sanitizedJson(value: object): string {
  return JSON.stringify(value, function replacer(this: unknown, _key: string, item: unknown) {
    if (typeof item === 'string') return pgSafeText(item);
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const keys = Object.keys(item);
      if (keys.some((key) => pgSafeText(key) !== key)) {
        // Keys that differ only by a NUL collapse into one; the later value wins, like in JSON.parse.
        return Object.fromEntries(Object.entries(item).map(([key, inner]) => [pgSafeText(key), inner]));
      }
    }
    return bigintAsString(_key, item);
  });
}

/**
 * Unix seconds as a storable bigint: whole, never negative. Past 2^53 a value cannot be read back
 * exactly (and past 2^63 PostgreSQL refuses it): like NaN, it is unknown.
 */
export function pgSafeTimestamp(value: number | null): number | null {
  if (value === null || !Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return null;
  return Math.max(0, Math.trunc(value));
}

/**
 * Keeps the last occurrence of each id, compared as stored (after `pgSafeText`), since one upsert
 * statement may not touch a row twice.
 */
export function lastById<T extends { id: string }>(items: readonly T[]): T[] {
  if (items.length < 2) return [...items];
  const byId = new Map<string, T>();
  for (const item of items) {
    const key = pgSafeText(item.id);
    byId.delete(key);
    byId.set(key, item);
  }
  return byId.size === items.length ? [...items] : [...byId.values()];
}

const INT4_MIN = -2_147_483_648;
const INT4_MAX = 2_147_483_647;

/**
 * A whole number for an `integer` column: NaN is 0, fractions are truncated, and what is past the
 * column's range is clamped to it, so that one absurd count cannot fail a chat.
 */
export function pgSafeInt(value: number, min = INT4_MIN): number {
  const whole = Math.trunc(value) || 0;
  return Math.min(INT4_MAX, Math.max(min, whole));
}

/** Where a page of messages ends: the (timestamp, row id) of its oldest message. */
export interface MessageCursor {
  timestamp: number;
  id: number;
}

/** Opaque to clients: base64url of `[timestamp, id]`. */
export function encodeCursor(cursor: MessageCursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp, cursor.id])).toString('base64url');
}

/** `null` for anything that is not a cursor we issued. */
export function decodeCursor(value: string): MessageCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      parsed.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
    ) {
      return { timestamp: parsed[0] as number, id: parsed[1] as number };
    }
  } catch {
    // not JSON: not ours
  }
  return null;
}

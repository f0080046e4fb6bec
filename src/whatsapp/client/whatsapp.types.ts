/**
 * The service's own view of WhatsApp data. Every provider (whatsapp-web.js, simulated) translates
 * into these types, so nothing above the port depends on a library's objects.
 */
export const SESSION_STATUSES = [
  'starting',
  'qr',
  'authenticated',
  'ready',
  'disconnected',
  'stopped',
  'failed',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A JSON object as stored in a `jsonb` column. */
export type RawObject = Record<string, unknown>;

export interface WaChat {
  /** Serialized WhatsApp id: `123@c.us`, `123-456@g.us`. */
  id: string;
  name: string;
  isGroup: boolean;
  unreadCount: number;
  /** Unix seconds of the last activity, as whatsapp-web.js gives it. */
  timestamp: number | null;
  archived: boolean;
  pinned: boolean;
  raw: RawObject;
}

export interface WaMessage {
  /** Serialized WhatsApp id: `true_123@c.us_3EB0ABC...`. */
  id: string;
  chatId: string;
  fromMe: boolean;
  /** Sender inside a group; `null` in a private chat. */
  author: string | null;
  /** Text, or the caption of a media message. */
  body: string;
  type: string;
  /** Unix seconds. */
  timestamp: number;
  hasMedia: boolean;
  ack: number;
  /**
   * Unix seconds of the latest edit, when the provider reports one (whatsapp-web.js:
   * `latestEditSenderTimestampMs`); absent or `null` for a message never edited.
   */
  editedAt?: number | null;
  raw: RawObject;
}

/*
 * Changes to a message reported live. Each names the message by its serialized id and chat; the
 * message may not be stored yet (an edit before the sync reached it): see README.md, "Message changes".
 */

/** The text of a message was edited: `body` replaces it. */
export interface WaMessageEdit {
  messageId: string;
  chatId: string;
  body: string;
  /** Unix seconds of the edit. */
  editedAt: number;
}

/** A message was deleted for everyone. */
export interface WaMessageRevoke {
  messageId: string;
  chatId: string;
  /** Unix seconds at which the deletion was seen. */
  revokedAt: number;
}

/** A reaction was set, changed or removed (`emoji: ""`); one per sender and message. */
export interface WaReaction {
  messageId: string;
  chatId: string;
  senderId: string;
  emoji: string;
  /** Unix seconds. */
  timestamp: number;
}

/** A message's media as downloaded from WhatsApp: whatsapp-web.js's `MessageMedia`, base64 and all. */
export interface WaMedia {
  mimetype: string;
  /** The bytes, base64-encoded (what whatsapp-web.js answers). */
  dataBase64: string;
  filename: string | null;
}

export interface WaMe {
  id: string;
  pushName: string | null;
}

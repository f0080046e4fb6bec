import { RawObject, WaMedia } from '../whatsapp.types';

/**
 * A simulated message's media (README, "Simulated account"): bytes to download, a download that
 * fails every time (`failDownload`), or media WhatsApp no longer has (`expired`).
 */
export type SimulatedMediaSpec =
  | { mimetype: string; filename: string | null; dataBase64: string }
  | { mimetype: string; filename: string | null; failDownload: true }
  | { mimetype: string; filename: string | null; expired: true };

/** What the simulated phone answers a download: the media, `null` when gone; throws for `failDownload`. */
export function downloadSimulatedMedia(messageId: string, media: SimulatedMediaSpec | undefined): WaMedia | null {
  if (!media || 'expired' in media) return null;
  if ('failDownload' in media) throw new Error(`simulated failure downloading the media of ${messageId}`);
  return { mimetype: media.mimetype, dataBase64: media.dataBase64, filename: media.filename };
}

/** The fields whatsapp-web.js's raw message data has for media (`mimetype`, `filename`, `size`); none of the bytes. */
export function mediaRawFields(media: SimulatedMediaSpec | undefined): RawObject {
  if (!media) return {};
  const raw: RawObject = { mimetype: media.mimetype };
  if (media.filename !== null) raw.filename = media.filename;
  if ('dataBase64' in media) raw.size = Buffer.byteLength(media.dataBase64, 'base64');
  return raw;
}

/** Reads a message's `"media"`; throws naming the field. */
export function parseMediaSpec(value: unknown, where: string): SimulatedMediaSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object`);
  const media = value as Record<string, unknown>;
  if (typeof media.mimetype !== 'string' || media.mimetype === '') throw new Error(`${where}.mimetype must be a non-empty string`);
  if (media.filename !== undefined && media.filename !== null && typeof media.filename !== 'string') throw new Error(`${where}.filename must be a string`);
  const base = { mimetype: media.mimetype, filename: typeof media.filename === 'string' ? media.filename : null };
  if (media.failDownload === true) return { ...base, failDownload: true };
  if (media.expired === true) return { ...base, expired: true };
  if (typeof media.dataBase64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(media.dataBase64) || media.dataBase64.length % 4 !== 0) {
    throw new Error(`${where} needs dataBase64 (base64 text), failDownload: true or expired: true`);
  }
  return { ...base, dataBase64: media.dataBase64 };
}

import { createHash } from 'node:crypto';
import { SimulatedMessageSpec } from '../../src/whatsapp/client/simulated/simulated-account';
import { SimulatedMediaSpec } from '../../src/whatsapp/client/simulated/simulated-media';

const BASE = 1_764_150_000;

/** Deterministic bytes of a given length (not compressible to nothing, different per seed). */
export function bytesOf(length: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A message of `chatId` with `media`, `n` minutes after the base time. */
export function mediaMessage(chatId: string, n: number, media: SimulatedMediaSpec, body = ''): SimulatedMessageSpec {
  return { id: `false_${chatId}_3EB0MEDIA${String(n).padStart(4, '0')}`, fromMe: false, author: null, body, type: 'image', timestamp: BASE + n * 60, hasMedia: true, ack: 0, media };
}

export function stored(bytes: Buffer, mimetype: string, filename: string | null = null): SimulatedMediaSpec {
  return { mimetype, filename, dataBase64: bytes.toString('base64') };
}

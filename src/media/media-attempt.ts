import { createHash } from 'node:crypto';
import { errorText } from '../common/error-text';
import { WhatsappClient } from '../whatsapp/client/whatsapp-client.port';
import { MediaJob, MediaOutcome } from './media.types';
import { MediaStore } from './stores/media-store';

/** What a file is called when WhatsApp gives neither a name nor a type we know. */
const FALLBACK_MIMETYPE = 'application/octet-stream';

/**
 * One download attempt: the bytes from WhatsApp, checked against MEDIA_MAX_BYTES, hashed and put in
 * the store. Holds one file in memory (its base64 text and its bytes) for the length of the attempt.
 * Never throws: a failure is a `retry` outcome naming its cause.
 */
export async function attemptDownload(job: MediaJob, client: WhatsappClient, store: MediaStore, maxBytes: number): Promise<MediaOutcome> {
  if (job.size !== null && job.size > maxBytes) return { status: 'too_large', size: job.size };
  if (!client.downloadMedia) return { status: 'retry', error: 'this session has no client that can download media' };
  let media;
  try {
    media = await client.downloadMedia(job.messageId, job.chatId);
  } catch (error) {
    return { status: 'retry', error: `download failed: ${errorText(error)}` };
  }
  if (media === null) return { status: 'expired' };
  // Checked on the text first, so that an oversized file is never decoded.
  const estimated = Math.floor((media.dataBase64.length * 3) / 4);
  if (estimated > maxBytes + 2) return { status: 'too_large', size: estimated };
  const bytes = Buffer.from(media.dataBase64, 'base64');
  if (bytes.length > maxBytes) return { status: 'too_large', size: bytes.length };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const mimetype = media.mimetype || job.mimetype || FALLBACK_MIMETYPE;
  try {
    await store.put(sha256, bytes, mimetype);
  } catch (error) {
    return { status: 'retry', error: `the ${store.kind} store failed: ${errorText(error)}` };
  }
  return { status: 'stored', sha256, size: bytes.length, mimetype, filename: media.filename ?? job.filename };
}

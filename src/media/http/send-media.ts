import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { answerRange, matchesEtag } from './byte-range';
import { contentDisposition, safeContentType } from './content-disposition';
import { ByteRange } from '../stores/media-store';

/** A stored file as the route serves it. */
export interface StoredFile {
  sha256: string;
  size: number;
  mimetype: string | null;
  filename: string | null;
}

/**
 * The policy of every media answer, in place of the dashboard's: a file opened from this origin (an
 * `text/html` or `image/svg+xml` someone sent) runs no script, loads nothing, and gets an opaque
 * origin, so it can neither read the API nor the dashboard's storage.
 */
export const MEDIA_CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'";

/**
 * Answers a GET (or HEAD) for a stored file: 304 when `If-None-Match` names its SHA-256, 416 for a
 * range past its end, 206 for one satisfiable range, else 200 with the whole file; the bytes stream
 * from the store (`open`), never held whole in memory.
 */
export async function sendMedia(request: Request, response: Response, file: StoredFile, open: (range?: ByteRange) => Promise<Readable>): Promise<void> {
  const etag = `"${file.sha256}"`;
  response.setHeader('ETag', etag);
  response.setHeader('Accept-Ranges', 'bytes');
  // A POST may store other bytes for the same message: browsers revalidate (a 304 while it is the same).
  response.setHeader('Cache-Control', 'private, no-cache');
  response.setHeader('Content-Type', safeContentType(file.mimetype));
  response.setHeader('Content-Disposition', contentDisposition(file.mimetype, file.filename, file.sha256));
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Content-Security-Policy', MEDIA_CONTENT_SECURITY_POLICY);
  if (matchesEtag(request.headers['if-none-match'], etag)) {
    response.status(304).end();
    return;
  }
  const range = answerRange(request.headers.range, file.size);
  if (range.kind === 'unsatisfiable') {
    response.setHeader('Content-Range', `bytes */${file.size}`);
    response.removeHeader('Content-Type');
    response.removeHeader('Content-Disposition');
    response.status(416).end();
    return;
  }
  const partial = range.kind === 'partial' ? { start: range.start, end: range.end } : undefined;
  // Opened before the status is sent, so that a store that fails still gets a proper error answer.
  const body = file.size === 0 || request.method === 'HEAD' ? undefined : await open(partial);
  if (partial) {
    response.status(206);
    response.setHeader('Content-Range', `bytes ${partial.start}-${partial.end}/${file.size}`);
    response.setHeader('Content-Length', String(partial.end - partial.start + 1));
  } else {
    response.status(200);
    response.setHeader('Content-Length', String(file.size));
  }
  if (!body) {
    response.end();
    return;
  }
  try {
    await pipeline(body, response);
  } catch {
    // The client went away, or the store failed mid-file: the connection is closed, short of its length.
    response.destroy();
  }
}

import type { Readable } from 'node:stream';

/** The injection token of the configured store (MEDIA_STORE). */
export const MEDIA_STORE = Symbol('MEDIA_STORE');

/** Bytes `start` to `end`, both included, as HTTP ranges count them. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The store has no object of this SHA-256 (deleted behind the service's back, or a purge raced a read). */
export class MediaObjectMissingError extends Error {
  constructor(sha256: string) {
    super(`no stored object ${sha256}`);
    this.name = 'MediaObjectMissingError';
  }
}

/**
 * Where media bytes are kept, by their SHA-256: identical content is one object. `put` stores an
 * object whole or not at all (a reader never sees part of one); `put` of an object already there
 * stores nothing again.
 */
export interface MediaStore {
  /** `postgres`, `fs` or `s3`: for logs and the README's words. */
  readonly kind: string;
  put(sha256: string, data: Buffer, mimetype: string): Promise<void>;
  /** The object's bytes (those of `range` only, when given); rejects with MediaObjectMissingError. */
  read(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Removes the object; nothing when it is not there. */
  delete(sha256: string): Promise<void>;
}

import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ByteRange, MediaObjectMissingError, MediaStore } from './media-store';

/**
 * MEDIA_STORE=fs:<folder>: one file per SHA-256, `<folder>/ab/cd/abcd...`. A file is written under a
 * temporary name, flushed, then renamed into place: the final name only ever holds a whole file.
 */
export class FsMediaStore implements MediaStore {
  readonly kind = 'fs';

  constructor(private readonly folder: string) {}

  async put(sha256: string, data: Buffer): Promise<void> {
    const path = this.pathOf(sha256);
    if (await exists(path)) return;
    await mkdir(join(path, '..'), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(sha256);
    if (!(await exists(path))) throw new MediaObjectMissingError(sha256);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  private pathOf(sha256: string): string {
    return join(this.folder, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

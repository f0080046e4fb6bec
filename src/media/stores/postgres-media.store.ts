import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { ByteRange, MediaObjectMissingError, MediaStore } from './media-store';

/** A read is sent in chunks of this size, so that serving a large file holds one chunk, not the file. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** MEDIA_STORE=postgres: table `media_blobs`, one row per SHA-256, the bytes in a `bytea`. */
export class PostgresMediaStore implements MediaStore {
  readonly kind = 'postgres';

  constructor(private readonly dataSource: DataSource) {}

  async put(sha256: string, data: Buffer): Promise<void> {
    // One statement: the row is there whole or not at all.
    await this.dataSource.query('INSERT INTO media_blobs (sha256, size, data) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING', [sha256, data.length, data]);
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const [row] = (await this.dataSource.query('SELECT size FROM media_blobs WHERE sha256 = $1', [sha256])) as Array<{ size: string }>;
    if (!row) throw new MediaObjectMissingError(sha256);
    const start = range?.start ?? 0;
    const end = range?.end ?? Number(row.size) - 1;
    return Readable.from(this.chunks(sha256, start, end));
  }

  async delete(sha256: string): Promise<void> {
    await this.dataSource.query('DELETE FROM media_blobs WHERE sha256 = $1', [sha256]);
  }

  private async *chunks(sha256: string, start: number, end: number): AsyncGenerator<Buffer> {
    for (let offset = start; offset <= end; offset += READ_CHUNK_BYTES) {
      const length = Math.min(READ_CHUNK_BYTES, end - offset + 1);
      // substring() of a bytea counts from 1.
      const [row] = (await this.dataSource.query('SELECT substring(data FROM $2::integer FOR $3::integer) AS chunk FROM media_blobs WHERE sha256 = $1', [sha256, offset + 1, length])) as Array<{ chunk: Buffer }>;
      if (!row) throw new MediaObjectMissingError(sha256);
      yield row.chunk;
    }
  }
}

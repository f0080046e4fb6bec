import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import type { Store } from 'whatsapp-web.js';

/**
 * whatsapp-web.js RemoteAuth store on PostgreSQL. RemoteAuth writes the zipped profile to
 * `<dataPath>/<session>.zip` and then calls `save({session})` without the path, so the store must
 * be given the same `dataPath` to find it.
 */
export class PostgresAuthStore implements Store {
  private readonly dataPath: string;

  constructor(
    private readonly dataSource: DataSource,
    dataPath: string,
  ) {
    this.dataPath = resolve(dataPath);
  }

  async sessionExists({ session }: { session: string }): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM wwebjs_auth_sessions WHERE session = $1', [session]);
    return rows.length > 0;
  }

  async save({ session }: { session: string }): Promise<void> {
    const zip = await readFile(join(this.dataPath, `${session}.zip`));
    await this.dataSource.query(
      `INSERT INTO wwebjs_auth_sessions (session, data, size_bytes) VALUES ($1, $2, $3)
       ON CONFLICT (session) DO UPDATE SET data = EXCLUDED.data, size_bytes = EXCLUDED.size_bytes, updated_at = now()`,
      [session, zip, zip.length],
    );
  }

  async extract({ session, path }: { session: string; path: string }): Promise<void> {
    const rows: Array<{ data: Buffer }> = await this.dataSource.query('SELECT data FROM wwebjs_auth_sessions WHERE session = $1', [session]);
    if (rows.length === 0) throw new Error(`No stored login for ${session}`);
    await writeFile(path, rows[0].data);
  }

  async delete({ session }: { session: string }): Promise<void> {
    await this.dataSource.query('DELETE FROM wwebjs_auth_sessions WHERE session = $1', [session]);
  }
}

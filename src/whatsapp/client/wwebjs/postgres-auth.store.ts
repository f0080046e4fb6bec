import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Store } from 'whatsapp-web.js';
import { AuthSessionRepository } from './auth-session.repository';

/**
 * whatsapp-web.js RemoteAuth store on PostgreSQL (rows through `AuthSessionRepository`). RemoteAuth
 * writes the zipped profile to `<dataPath>/<session>.zip` and then calls `save({session})` without
 * the path, so the store must be given the same `dataPath` to find it.
 */
export class PostgresAuthStore implements Store {
  private readonly dataPath: string;

  constructor(
    private readonly rows: AuthSessionRepository,
    dataPath: string,
  ) {
    this.dataPath = resolve(dataPath);
  }

  sessionExists({ session }: { session: string }): Promise<boolean> {
    return this.rows.exists(session);
  }

  async save({ session }: { session: string }): Promise<void> {
    await this.rows.save(session, await readFile(join(this.dataPath, `${session}.zip`)));
  }

  async extract({ session, path }: { session: string; path: string }): Promise<void> {
    const zip = await this.rows.find(session);
    if (zip === null) throw new Error(`No stored login for ${session}`);
    await writeFile(path, zip);
  }

  async delete({ session }: { session: string }): Promise<void> {
    await this.rows.delete(session);
  }
}

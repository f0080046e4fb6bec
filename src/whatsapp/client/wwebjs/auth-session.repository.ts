import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Rows of `wwebjs_auth_sessions`: one zipped whatsapp-web.js profile per RemoteAuth session name. */
@Injectable()
export class AuthSessionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async exists(session: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM wwebjs_auth_sessions WHERE session = $1', [session]);
    return rows.length > 0;
  }

  /** The stored zip, or null when the session has none. */
  async find(session: string): Promise<Buffer | null> {
    const rows: Array<{ data: Buffer }> = await this.dataSource.query('SELECT data FROM wwebjs_auth_sessions WHERE session = $1', [session]);
    return rows.length === 0 ? null : rows[0].data;
  }

  async save(session: string, zip: Buffer): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO wwebjs_auth_sessions (session, data, size_bytes) VALUES ($1, $2, $3)
       ON CONFLICT (session) DO UPDATE SET data = EXCLUDED.data, size_bytes = EXCLUDED.size_bytes, updated_at = now()`,
      [session, zip, zip.length],
    );
  }

  async delete(session: string): Promise<void> {
    await this.dataSource.query('DELETE FROM wwebjs_auth_sessions WHERE session = $1', [session]);
  }
}

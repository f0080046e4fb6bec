import { Client } from 'pg';
import { ADMIN_URL_VAR, TEMPLATE_VAR, adminQuery, withDatabase } from '../setup/test-postgres';

let counter = 0;

/** A fresh, migrated database for one test file, cloned from the run's template. */
export class TestDatabase {
  private client: Client | undefined;

  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly adminUrl: string,
  ) {}

  static async create(): Promise<TestDatabase> {
    const adminUrl = required(ADMIN_URL_VAR);
    const template = required(TEMPLATE_VAR);
    const name = `wa_test_${process.env.JEST_WORKER_ID ?? '0'}${counter++}_${process.ppid}_${Date.now()}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
    return new TestDatabase(name, withDatabase(adminUrl, name), adminUrl);
  }

  async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (!this.client) {
      this.client = new Client({ connectionString: this.url });
      await this.client.connect();
    }
    return (await this.client.query(sql, params)).rows as T[];
  }

  /** Row counts of every table for one session (or all sessions), to prove a request changed nothing. */
  async counts(sessionId?: string): Promise<Record<string, number>> {
    const where = sessionId === undefined ? '' : ' WHERE session_id = $1';
    const params = sessionId === undefined ? [] : [sessionId];
    const result: Record<string, number> = {};
    for (const table of ['sessions', 'chats', 'messages', 'sync_runs']) {
      const [row] = await this.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}${where}`, params);
      result[table] = Number(row.n);
    }
    return result;
  }

  async drop(): Promise<void> {
    await this.client?.end();
    await adminQuery(this.adminUrl, `DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (its global setup provides it)`);
  return value;
}

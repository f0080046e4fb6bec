import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { adminQuery, freePort, withDatabase } from '../test/setup/test-postgres';

/** The server the benchmark writes to: `DATABASE_URL`'s, or an embedded one; a fresh database per scenario. */
export class BenchPostgres {
  private created: string[] = [];

  private constructor(
    readonly adminUrl: string,
    readonly description: string,
    private readonly embedded?: { db: EmbeddedDatabase; dir: string },
  ) {}

  static async start(): Promise<BenchPostgres> {
    if (process.env.DATABASE_URL) return new BenchPostgres(process.env.DATABASE_URL, 'DATABASE_URL server');
    const dir = mkdtempSync(join(tmpdir(), 'wa-bench-pg-'));
    const db = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
    return new BenchPostgres(db.adminUrl, 'embedded PostgreSQL 18', { db, dir });
  }

  /** A new database with the real migrations applied; its URL. */
  async freshDatabase(label: string): Promise<string> {
    const name = `wa_bench_${label}_${process.pid}_${Date.now()}`;
    await this.admin(`CREATE DATABASE ${name}`);
    this.created.push(name);
    const url = withDatabase(this.adminUrl, name);
    const dataSource = new DataSource({ ...typeOrmOptions(url, 1), migrationsRun: false });
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'all' });
    await dataSource.destroy();
    return url;
  }

  /**
   * Drops a database `freshDatabase` made, as soon as its scenario is over: a database left behind
   * keeps its buffers and, where autovacuum is on (the embedded server), autovacuum's work in the
   * scenarios that follow.
   */
  async dropDatabase(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    if (!this.created.includes(name)) return;
    await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    this.created = this.created.filter((created) => created !== name);
  }

  async serverVersion(): Promise<string> {
    const rows = await this.admin('SHOW server_version');
    return String((rows[0] as { server_version: string }).server_version);
  }

  /**
   * Writes out the WAL earlier scenarios left, so that no measured run pays for a checkpoint its
   * predecessors triggered (the largest source of run-to-run spread seen here). Needs a superuser;
   * where `DATABASE_URL`'s user is not one, runs go on without it.
   */
  async checkpoint(): Promise<void> {
    await this.admin('CHECKPOINT').catch(() => undefined);
  }

  /**
   * Brings a database to the same state before each of several runs on it: `VACUUM (ANALYZE)`, so
   * that autovacuum (on in the embedded server) has nothing left to start in the middle of the next
   * run, then a checkpoint.
   */
  async settle(url: string): Promise<void> {
    await adminQuery(url, 'VACUUM (ANALYZE)');
    await this.checkpoint();
  }

  async stop(): Promise<void> {
    for (const name of this.created) await this.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (this.embedded) {
      await this.embedded.db.stop();
      rmSync(this.embedded.dir, { recursive: true, force: true });
    }
  }

  private async admin(sql: string): Promise<unknown[]> {
    return (await adminQuery(this.adminUrl, sql)).rows;
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EmbeddedDatabase, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { typeOrmOptions } from '../../src/database/typeorm-options';

/** Environment variables through which the global setup tells the test files where the server is. */
export const ADMIN_URL_VAR = 'TEST_PG_ADMIN_URL';
export const TEMPLATE_VAR = 'TEST_PG_TEMPLATE';

interface TestServer {
  adminUrl: string;
  template: string;
  embedded?: EmbeddedDatabase;
  embeddedDir?: string;
}

const state = globalThis as typeof globalThis & { __testServer?: TestServer };

/**
 * One PostgreSQL for the whole run: the server of `DATABASE_URL` when it is set (CI uses the
 * machine's), an embedded one otherwise. The real migrations build a template database once; each
 * test file clones it, so files are isolated and run in parallel.
 */
export async function startTestServer(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  let embeddedDir: string | undefined;
  if (!adminUrl) {
    embeddedDir = mkdtempSync(join(tmpdir(), 'wa-test-pg-'));
    embedded = await startEmbeddedPostgres({ dataDir: embeddedDir, port: await freePort() });
    adminUrl = embedded.adminUrl;
  }
  const template = `wa_test_tpl_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  const dataSource = new DataSource({ ...typeOrmOptions(withDatabase(adminUrl, template), 1), migrationsRun: false });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  await dataSource.destroy();
  state.__testServer = { adminUrl, template, embedded, embeddedDir };
  process.env[ADMIN_URL_VAR] = adminUrl;
  process.env[TEMPLATE_VAR] = template;
}

export async function stopTestServer(): Promise<void> {
  const server = state.__testServer;
  if (!server) return;
  const leftovers = await adminQuery(
    server.adminUrl,
    `SELECT datname FROM pg_database WHERE datname LIKE 'wa_test_%_${process.pid}_%' OR datname = '${server.template}'`,
  );
  for (const { datname } of leftovers.rows as { datname: string }[]) {
    await adminQuery(server.adminUrl, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  if (server.embedded) await server.embedded.stop();
  if (server.embeddedDir) rmSync(server.embeddedDir, { recursive: true, force: true });
}

export async function adminQuery(url: string, sql: string, params: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

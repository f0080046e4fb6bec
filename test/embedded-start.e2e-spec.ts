import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './setup/test-postgres';
import { waitFor } from './support/wait';

/**
 * `npm start` with no database configured: the real service, as its own process, on the embedded
 * PostgreSQL. It serves, keeps its data across restarts, stops cleanly, and says why it cannot start.
 */
interface Service {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

const root = mkdtempSync(join(tmpdir(), 'wa-npm-start-'));
chmodSync(root, 0o755); // PostgreSQL runs as the `postgres` user and must reach its folder
const dataDir = join(root, 'pg');
let pgPort: number;
/** Every service started, so that none outlives a failing test. */
const started: Service[] = [];
/** Starting a service compiles it with ts-node and may initialise a database cluster. */
const PROCESS_TEST_TIMEOUT_MS = 180_000;

function startService(env: Record<string, string>): Service {
  const port = Number(env.PORT);
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: join(__dirname, '..'),
    env: { ...inherited, WA_PROVIDER: 'simulated', SIMULATED_CHATS: '2', SIMULATED_MESSAGES_PER_CHAT: '3', RESTORE_SESSIONS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service = { child, url: `http://127.0.0.1:${port}`, output: () => output, exited };
  started.push(service);
  return service;
}

async function healthy(service: Service): Promise<boolean> {
  try {
    return (await fetch(`${service.url}/health`)).status === 200;
  } catch {
    return false;
  }
}

async function stop(service: Service): Promise<number | null> {
  service.child.kill('SIGTERM');
  return service.exited;
}

function postgresOf(dir: string): boolean {
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.includes(`-D ${dir}`));
}

describe('npm start without DATABASE_URL', () => {
  beforeAll(async () => {
    pgPort = await freePort();
  });
  afterAll(async () => {
    for (const service of started) if (service.child.exitCode === null) service.child.kill('SIGKILL');
    await Promise.all(started.map((service) => service.exited));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves on the embedded PostgreSQL, stops cleanly on SIGTERM, and finds its data again', async () => {
    const env = { EMBEDDED_PG_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), PORT: String(await freePort()) };
    const first = startService(env);
    await waitFor(() => healthy(first), 'the service on the embedded database', 90_000);
    expect(first.output()).toContain('DATABASE_URL is not set: starting the embedded PostgreSQL');
    await fetch(`${first.url}/whatsapp-web/session/kept/start`, { method: 'POST' });
    await waitFor(async () => ((await (await fetch(`${first.url}/whatsapp-web/session/kept`)).json()) as { status: string }).status === 'ready', 'ready');
    const sync = await fetch(`${first.url}/whatsapp-web/session/kept/sync-chats`, { method: 'POST' });
    expect(await sync.json()).toMatchObject({ success: true, chatsProcessed: 2, messagesSynced: 6 });

    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('SIGTERM received, shutting down');
    expect(postgresOf(dataDir)).toBe(false);

    const second = startService({ ...env, PORT: String(await freePort()) });
    try {
      await waitFor(() => healthy(second), 'the second start', 90_000);
      const chats = (await (await fetch(`${second.url}/whatsapp-web/session/kept/chats?sync=false`)).json()) as unknown[];
      expect(chats).toHaveLength(2);

      // A second service on the same data folder is refused with a message, not a hang.
      const intruder = startService({ ...env, EMBEDDED_PG_PORT: String(await freePort()), PORT: String(await freePort()) });
      expect(await intruder.exited).toBe(1);
      expect(intruder.output()).toMatch(new RegExp(`The embedded PostgreSQL data directory ${dataDir} is in use by process \\d+`));
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('refuses a taken EMBEDDED_PG_PORT with a message that names it', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const service = startService({ EMBEDDED_PG_DATA_DIR: join(root, 'other'), EMBEDDED_PG_PORT: String(port), PORT: String(await freePort()) });
      expect(await service.exited).toBe(1);
      expect(service.output()).toContain(`Port ${port} for the embedded PostgreSQL is in use; set EMBEDDED_PG_PORT to a free port.`);
    } finally {
      blocker.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

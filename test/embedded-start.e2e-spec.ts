import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './setup/test-postgres';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/wait';

/**
 * `npm start` with no database configured: the real service, as its own process, on the embedded
 * PostgreSQL. It serves, keeps its data across restarts, stops cleanly, and says why it cannot start.
 */
const root = mkdtempSync(join(tmpdir(), 'wa-npm-start-'));
chmodSync(root, 0o755); // PostgreSQL runs as the `postgres` user and must reach its folder
const dataDir = join(root, 'pg');
/** Starting compiles the service with ts-node and may initialise a database cluster. */
const START_TIMEOUT_MS = 90_000;
const PROCESS_TEST_TIMEOUT_MS = 180_000;
const ACCOUNT = { WA_PROVIDER: 'simulated', SIMULATED_CHATS: '2', SIMULATED_MESSAGES_PER_CHAT: '3', RESTORE_SESSIONS: 'false' };
/** Every service started, so that none outlives a failing test. */
const started: ServiceProcess[] = [];

async function start(env: Record<string, string>) {
  const service = await ServiceProcess.start({ ...ACCOUNT, ...env }, START_TIMEOUT_MS);
  started.push(service);
  return service;
}

/** A start that is expected to fail: how it ended and what it said. */
async function failedStart(env: Record<string, string>) {
  const service = ServiceProcess.launch({ ...ACCOUNT, ...env });
  started.push(service);
  return { exit: await service.exited, log: service.log };
}

function postgresOf(dir: string): boolean {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.includes(`-D ${dir}`));
}

describe('npm start without DATABASE_URL', () => {
  let pgPort: number;

  beforeAll(async () => {
    pgPort = await freePort();
  });
  afterAll(async () => {
    for (const service of started) service.kill();
    await Promise.all(started.map((service) => service.exited));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves on the embedded PostgreSQL, stops cleanly on SIGTERM, and finds its data again', async () => {
    const env = { EMBEDDED_PG_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
    const first = await start(env);
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);
    expect(first.log).toContain('DATABASE_URL is not set: starting the embedded PostgreSQL');
    await fetch(`${first.baseUrl}/whatsapp-web/session/kept/start`, { method: 'POST' });
    await waitFor(async () => ((await (await fetch(`${first.baseUrl}/whatsapp-web/session/kept`)).json()) as { status: string }).status === 'ready', 'ready');
    const sync = await fetch(`${first.baseUrl}/whatsapp-web/session/kept/sync-chats`, { method: 'POST' });
    expect(await sync.json()).toMatchObject({ success: true, chatsProcessed: 2, messagesSynced: 6 });

    expect((await first.stop('SIGTERM')).code).toBe(0);
    expect(first.log).toContain('SIGTERM received, shutting down');
    expect(postgresOf(dataDir)).toBe(false);

    const second = await start(env);
    try {
      const chats = (await (await fetch(`${second.baseUrl}/whatsapp-web/session/kept/chats?sync=false`)).json()) as unknown[];
      expect(chats).toHaveLength(2);

      // A second service on the same data folder is refused with a message, not a hang.
      const intruder = await failedStart({ ...env, EMBEDDED_PG_PORT: String(await freePort()) });
      expect(intruder.exit.code).toBe(1);
      expect(intruder.log).toMatch(new RegExp(`The embedded PostgreSQL data directory ${dataDir} is in use by process \\d+`));
    } finally {
      expect((await second.stop('SIGTERM')).code).toBe(0);
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('refuses a taken EMBEDDED_PG_PORT with a message that names it', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const refused = await failedStart({ EMBEDDED_PG_DATA_DIR: join(root, 'other'), EMBEDDED_PG_PORT: String(port) });
      expect(refused.exit.code).toBe(1);
      expect(refused.log).toContain(`Port ${port} for the embedded PostgreSQL is in use; set EMBEDDED_PG_PORT to a free port.`);
    } finally {
      blocker.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

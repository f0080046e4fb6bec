import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_URL_VAR, freePort, withDatabase } from './setup/test-postgres';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/wait';

/**
 * What an operator sees when the service cannot start: the service as its own process, with one bad
 * setting each time. It names the variable, says nothing else, and leaves nothing running.
 */
const root = mkdtempSync(join(tmpdir(), 'wa-boot-'));
chmodSync(root, 0o755); // PostgreSQL runs as the `postgres` user and must reach its folder
const PROCESS_TEST_TIMEOUT_MS = 120_000;
const launched: ServiceProcess[] = [];
const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

function launch(env: Record<string, string>): ServiceProcess {
  const service = ServiceProcess.launch({ WA_PROVIDER: 'simulated', RESTORE_SESSIONS: 'false', ...env });
  launched.push(service);
  return service;
}

function postgresOf(dir: string): boolean {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.includes(`-D ${dir}`));
}

afterAll(async () => {
  for (const service of launched) service.kill();
  await Promise.all(launched.map((service) => service.exited));
  rmSync(root, { recursive: true, force: true });
});

describe('start-up refuses a bad configuration', () => {
  it('a bad HOST, CORS_ORIGINS and SIMULATED_ACCOUNT: exit 1 before anything starts, each variable named, no stack trace', async () => {
    const missing = join(root, 'missing-account.json');
    const service = launch({
      HOST: '999.1.1.1',
      CORS_ORIGINS: 'notaurl',
      SIMULATED_ACCOUNT: missing,
      // Were the configuration accepted, this is where the embedded PostgreSQL would start.
      EMBEDDED_PG_DATA_DIR: join(root, 'never-started'),
      EMBEDDED_PG_PORT: String(await freePort()),
    });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.log).toBe(
      [
        'Invalid configuration:',
        '  - HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name such as localhost (got "999.1.1.1")',
        `  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file (got "${missing}": no such file)`,
        '  - CORS_ORIGINS must be * or a comma-separated list of http:// or https:// origins with no path, such as https://app.example.com,http://localhost:5173 (not origins: "notaurl")',
        '',
      ].join('\n'),
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a malformed entry of the account\'s "live" list: exit 1 naming the entry', async () => {
    const path = join(root, 'bad-live.json');
    const live = [
      { afterMs: 100, type: 'edit', messageId: 'false_a@c.us_1', body: 'fine' },
      { afterMs: 200, type: 'reaction', messageId: 'false_a@c.us_NOPE', senderId: 'x@c.us', emoji: '👍' },
    ];
    writeFileSync(path, JSON.stringify({ chats: [{ id: 'a@c.us', messages: [{ id: 'false_a@c.us_1', body: 'hi' }] }], live }));
    const service = launch({ SIMULATED_ACCOUNT: path, EMBEDDED_PG_DATA_DIR: join(root, 'never-started-live'), EMBEDDED_PG_PORT: String(await freePort()) });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.log).toBe(
      `Invalid configuration:\n  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file (got "${path}": the file: live[1].messageId "false_a@c.us_NOPE" is not a message of the account or of an earlier live message)\n`,
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  it('an unreachable DATABASE_URL: one line an attempt, naming host and port only, with no stack trace', async () => {
    const port = await freePort();
    const service = launch({ DATABASE_URL: `postgres://wa:hunter2-secret@127.0.0.1:${port}/wa` });
    let exit: unknown;
    void service.exited.then((e) => (exit = e));
    await waitFor(() => exit !== undefined || service.log.includes('attempt 2 of 10'), 'the second attempt', 20_000);
    expect(exit).toBeUndefined();
    // A signal ends the wait at once: nothing had started, the service exits 0.
    const stopped = await service.stop('SIGTERM');
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 0, signal: null });
    expect(service.log).toContain('SIGTERM received, shutting down');

    const waiting = service.log.split('\n').filter((line) => line.includes('waiting for the database'));
    expect(waiting.length).toBeGreaterThanOrEqual(2);
    waiting.forEach((line, index) =>
      expect(line).toMatch(
        new RegExp(`waiting for the database at 127\\.0\\.0\\.1:${port} \\(attempt ${index + 1} of 10: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); next attempt in 3 s`),
      ),
    );
    expect(service.log).not.toContain('hunter2-secret');
    expect(service.log).not.toContain('Retrying');
    expect(service.log).not.toMatch(STACK_FRAME);
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a database that does not exist: exit 1 at once, naming DATABASE_URL', async () => {
    const url = withDatabase(process.env[ADMIN_URL_VAR]!, 'wa_boot_no_such_database');
    const { hostname, port } = new URL(url);
    const service = launch({ DATABASE_URL: url });
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.log).toBe(
      `The database at ${hostname}:${port || '5432'} refused the connection: database "wa_boot_no_such_database" does not exist (3D000). Check DATABASE_URL.\n`,
    );
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a PORT in use: exit 1 naming HOST and PORT, and the embedded PostgreSQL it started is stopped', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const dataDir = join(root, 'pg-port-taken');
    try {
      const service = launch({ PORT: String(port), EMBEDDED_PG_DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) });
      expect(await service.exited).toEqual({ code: 1, signal: null });
      expect(service.log).toContain('DATABASE_URL is not set: starting the embedded PostgreSQL');
      expect(service.log.trimEnd().split('\n').at(-1)).toBe(
        `Cannot listen on 127.0.0.1 port ${port} (HOST, PORT): listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
      );
      expect(service.log).not.toMatch(STACK_FRAME);
      expect(postgresOf(dataDir)).toBe(false);
    } finally {
      blocker.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

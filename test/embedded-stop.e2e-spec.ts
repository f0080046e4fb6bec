import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * How the embedded PostgreSQL is stopped (src/database/embedded-postgres.ts), in a process of its
 * own (test/fixtures/embedded-stop.ts): the postmaster is known by PostgreSQL's `postmaster.pid`.
 */
jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline && alive(pid); ) await new Promise((resolve) => setTimeout(resolve, 50));
  return !alive(pid);
}

describe('the embedded PostgreSQL stops', () => {
  const root = mkdtempSync(join(tmpdir(), 'wa-embedded-stop-'));
  const pids: number[] = [];
  chmodSync(root, 0o755); // as root, PostgreSQL runs as the `postgres` user, which must reach its data folder

  afterAll(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  async function run(mode: 'clean' | 'killed' | 'stuck' | 'exit'): Promise<{ dataDir: string; pid: number; stopMs?: number }> {
    const dataDir = join(root, mode);
    const port = await freePort();
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', join(ROOT, 'test', 'fixtures', 'embedded-stop.ts'), dataDir, String(port), mode],
        { cwd: ROOT, env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') }, timeout: 90_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out)),
      ),
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { pid: number; stopMs?: number };
    pids.push(result.pid);
    return { dataDir, ...result };
  }

  it('cleanly: the postmaster exits and removes its postmaster.pid', async () => {
    const { dataDir, pid } = await run('clean');
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('at once when PostgreSQL has already exited (killed): nothing to wait for', async () => {
    const { dataDir, pid, stopMs } = await run('killed');
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(true); // a kill leaves the lock file
    expect(stopMs).toBeLessThan(2_000);
  });

  it('by SIGKILL when it does not stop within the stop timeout', async () => {
    const { pid, stopMs } = await run('stuck');
    expect(stopMs).toBeGreaterThanOrEqual(9_900);
    expect(await goneWithin(pid, 5_000)).toBe(true);
  });

  it('when the process exits without stopping it, PostgreSQL is told to shut down', async () => {
    const { dataDir, pid } = await run('exit');
    expect(await goneWithin(pid, 15_000)).toBe(true);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false); // a shutdown, not a crash
  });
});

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './setup/test-postgres';
import { waitFor } from './support/wait';

/**
 * `npm start` and `npm run demo` under a process manager (systemd, `docker run ... npm start`, a
 * supervisor): the signal goes to npm, not to node. npm hands SIGTERM to its script's shell; the
 * script must make node that process (`exec`), or node and its embedded PostgreSQL outlive npm and
 * the next start finds the data folder in use.
 */
const ROOT = join(__dirname, '..');
const root = mkdtempSync(join(tmpdir(), 'wa-npm-signals-'));
chmodSync(root, 0o755); // PostgreSQL runs as the `postgres` user and must reach its folder
const dataDir = join(root, 'pg');
const TEST_TIMEOUT_MS = 240_000;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
/** Every process a test saw, so that none outlives a failing test. */
const seen = new Set<number>();

interface Ps {
  pid: number;
  ppid: number;
  stat: string;
  args: string;
}

function processes(): Ps[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, pid, ppid, stat, args]) => ({ pid: Number(pid), ppid: Number(ppid), stat, args }));
}

/** `pid` and every process below it, as `ps` shows them now. */
function tree(pid: number): Ps[] {
  const all = processes();
  const found = all.filter((p) => p.pid === pid);
  for (let i = 0; i < found.length; i++) found.push(...all.filter((p) => p.ppid === found[i].pid));
  return found;
}

/** Of `pids`, those still running (a zombie has ended). */
function alive(pids: number[]): Ps[] {
  return processes().filter((p) => pids.includes(p.pid) && !p.stat.startsWith('Z'));
}

function postgresOf(dir: string): Ps[] {
  return processes().filter((p) => p.args.includes(`-D ${dir}`) && !p.stat.startsWith('Z'));
}

/** `npm <args>` in the project, with an environment of its own (no `.env` value applies: each is set). */
function npm(args: string[], env: Record<string, string>): { child: ChildProcess; log: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn('npm', [...args, '--ignore-scripts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? root,
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: '',
      EMBEDDED_PG_DATA_DIR: dataDir,
      WA_PROVIDER: 'simulated',
      SIMULATED_CHATS: '2',
      SIMULATED_MESSAGES_PER_CHAT: '3',
      RESTORE_SESSIONS: 'false',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, log: () => output, exited };
}

/**
 * Runs `npm <script>` until it serves, sends SIGTERM to npm, and checks that npm, node and the
 * embedded PostgreSQL all end; answers what the service logged.
 */
async function startThenSigtermNpm(script: string[], entry: string): Promise<string> {
  const run = npm(script, { EMBEDDED_PG_PORT: String(await freePort()) });
  let exit: unknown;
  void run.exited.then((e) => (exit = e));
  await waitFor(() => exit !== undefined || /listening on http:\/\/[^\s"]+/.test(run.log()), `${script.join(' ')} to listen`, START_TIMEOUT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\n${run.log()}`);
  });
  expect(exit).toBeUndefined();
  const url = /listening on (http:\/\/[^\s"]+)/.exec(run.log())![1];
  expect((await fetch(`${url}/health`)).status).toBe(200);

  const service = tree(run.child.pid!);
  service.forEach((p) => seen.add(p.pid));
  // npm, its script as node (the shell replaced itself), and PostgreSQL below node.
  expect(service.some((p) => p.args === `node ${entry}` || p.args.endsWith(` ${entry}`))).toBe(true);
  expect(postgresOf(dataDir).length).toBeGreaterThan(0);

  run.child.kill('SIGTERM');
  expect(await run.exited).toEqual({ code: 0, signal: null });
  await waitFor(() => alive(service.map((p) => p.pid)).length === 0 && postgresOf(dataDir).length === 0, 'every process of the run to end', STOP_TIMEOUT_MS).catch(
    (error: Error) => {
      throw new Error(`${error.message}: still running ${JSON.stringify([...alive(service.map((p) => p.pid)), ...postgresOf(dataDir)])}`);
    },
  );
  return run.log();
}

describe('npm scripts under a process manager: SIGTERM to npm', () => {
  beforeAll(() => {
    // Once for both scripts, which then run with --ignore-scripts (no prestart/predemo build).
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: 180_000 });
  }, 200_000);
  afterAll(() => {
    for (const p of alive([...seen])) process.kill(p.pid, 'SIGKILL');
    for (const p of postgresOf(dataDir)) process.kill(p.pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('npm start: node dist/main.js and its embedded PostgreSQL stop with npm', async () => {
    const log = await startThenSigtermNpm(['start'], 'dist/main.js');
    expect(log).toContain('SIGTERM received, shutting down');
  }, TEST_TIMEOUT_MS);

  it('npm start stopped while its embedded PostgreSQL is starting: nothing is left running', async () => {
    const run = npm(['start'], { EMBEDDED_PG_PORT: String(await freePort()) });
    let exit: unknown;
    void run.exited.then((e) => (exit = e));
    await waitFor(() => exit !== undefined || run.log().includes('starting the embedded PostgreSQL'), 'the embedded PostgreSQL to be starting', START_TIMEOUT_MS);
    expect(exit).toBeUndefined();
    const service = tree(run.child.pid!);
    service.forEach((p) => seen.add(p.pid));

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => alive(service.map((p) => p.pid)).length === 0 && postgresOf(dataDir).length === 0, 'every process of the run to end', STOP_TIMEOUT_MS).catch(
      (error: Error) => {
        throw new Error(`${error.message}: still running ${JSON.stringify([...alive(service.map((p) => p.pid)), ...postgresOf(dataDir)])}\n${run.log()}`);
      },
    );
    expect(run.log()).toContain('SIGTERM received, shutting down');
  }, TEST_TIMEOUT_MS);

  it('npm run demo then starts on the same data folder, and stops with npm too', async () => {
    const log = await startThenSigtermNpm(['run', 'demo'], 'dist/demo.js');
    expect(log).toContain('Demo running.');
    expect(log).not.toContain('is in use by process');
    expect(log).toContain('SIGTERM received, shutting down');
  }, TEST_TIMEOUT_MS);
});

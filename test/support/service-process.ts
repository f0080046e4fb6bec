import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The service as operators run it: `src/main.ts` in a process of its own (through ts-node, so no
 * build is needed), configured by its environment only, stopped by a signal.
 */
export class ServiceProcess {
  private output = '';
  readonly exited: Promise<Exit>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  /** Starts the service and resolves once it listens (its log says where). */
  static async start(env: Record<string, string>, timeoutMs = 30_000): Promise<ServiceProcess & { baseUrl: string }> {
    const service = ServiceProcess.launch(env);
    let exit: Exit | undefined;
    void service.exited.then((e) => (exit = e));
    await waitFor(() => exit !== undefined || /listening on http:\/\/[^\s"]+/.test(service.output), 'the service to listen', timeoutMs).catch((error: Error) => {
      service.kill();
      throw new Error(`${error.message}\n${service.output}`);
    });
    if (exit) throw new Error(`the service exited at start (${JSON.stringify(exit)}):\n${service.output}`);
    const url = /listening on (http:\/\/[^\s"]+)/.exec(service.output)![1];
    return Object.assign(service, { baseUrl: url.replace('localhost', '127.0.0.1') });
  }

  /** Starts the service without waiting for it: for a start that is expected to fail. */
  static launch(env: Record<string, string>): ServiceProcess {
    // A cwd of its own: no `.env` of the developer's is read.
    const cwd = mkdtempSync(join(tmpdir(), 'wa-service-'));
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '',
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        NODE_PATH: join(ROOT, 'node_modules'),
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_FORMAT: 'json',
        // Off unless a test sets it (an empty value: production's default, incremental).
        SYNC_ON_READY: 'off',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child);
    void service.exited.then(() => rmSync(cwd, { recursive: true, force: true }));
    return service;
  }

  get log(): string {
    return this.output;
  }

  /** Sends `signal` and resolves with how the process ended and how long it took. */
  async stop(signal: NodeJS.Signals): Promise<Exit & { ms: number }> {
    const started = Date.now();
    this.child.kill(signal);
    const exit = await this.exited;
    return { ...exit, ms: Date.now() - started };
  }

  /** Sends `signal` without waiting (SIGSTOP, SIGCONT: a process paused and resumed). */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Last resort for a test that failed half-way. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface WatcherCommand {
  url: string;
  sessionId: string;
  clients: number;
  /** Lean protocol clients (see lean-client.ts) instead of socket.io-clients. */
  lean: boolean;
}
export interface WatchersSeen {
  /** `sync_chats` events each client received. */
  events: number[];
  errors: string[];
  /** CPU the clients' process used from the run's start to the last `sync_chats_done`. */
  cpuSeconds: number;
}
export type WatcherReport = { kind: 'ready' } | ({ kind: 'done' } & WatchersSeen) | { kind: 'failed'; error: string };

/** One run's watchers, joined and waiting for the run's events. */
export interface Watching {
  /** Every client's event count and any order errors, once all have seen `sync_chats_done`. */
  finished(): Promise<WatchersSeen>;
}

/**
 * A process at the lowest CPU priority that holds the benchmark's Socket.IO clients, one run after
 * another: for each run it connects `clients` clients, joins them to the session's room, and reports
 * what they saw once `sync_chats_done` arrived. Real watchers are browsers on other machines; on
 * this 2-core machine, clients sharing the benchmark's process would take CPU from the server and the
 * database and be counted as the cost of the progress events. Niced, they use what the server and
 * database leave idle, while everything the server does to send them the events (encoding, writes,
 * the kernel's loopback work) is still measured. One process serves many runs, so that its start-up
 * (Node and the TypeScript loader, about 0.7 s of CPU) happens before any measured run.
 */
export class WatcherProcess {
  private readonly waiting: Array<{ kind: 'ready' | 'done'; resolve: (report: WatcherReport) => void; reject: (error: Error) => void }> = [];
  /** Why the process can serve no more runs, once it cannot. */
  private dead: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (report: WatcherReport) => {
      if (report.kind === 'failed') return this.failAll(new Error(`watchers: ${report.error}`));
      const next = this.waiting.shift();
      if (next && report.kind === next.kind) next.resolve(report);
      else next?.reject(new Error(`watchers: expected ${next.kind}, got ${report.kind}`));
    });
    // A process that could not start, or whose channel closed, fails what waits instead of hanging it.
    child.on('error', (error) => this.die(new Error(`watcher process: ${error.message}`)));
    child.once('exit', (code) => this.die(new Error(`watcher process exited with ${code}`)));
  }

  static start(): WatcherProcess {
    const node = [process.execPath, '-r', 'ts-node/register/transpile-only', join(__dirname, 'watcher-main.ts')];
    // Every thread of it niced (V8's GC and compiler threads too, which `setPriority` on the pid misses).
    return new WatcherProcess(spawn('nice', ['-n', '19', ...node], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  /** Joins the clients to the session's room; resolves once all are in it. */
  async watch(command: WatcherCommand): Promise<Watching> {
    if (this.dead) throw this.dead;
    const ready = this.next('ready');
    const done = this.next('done') as Promise<{ kind: 'done' } & WatchersSeen>;
    done.catch(() => undefined);
    this.child.send(command);
    await ready;
    return { finished: () => done };
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill();
  }

  /** The next report of `kind`; a run that takes longer than any sync here fails instead of hanging the bench. */
  private next(kind: 'ready' | 'done'): Promise<WatcherReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.failAll(new Error(`watchers: no '${kind}' within ${REPORT_TIMEOUT_MS / 1000} s`)), REPORT_TIMEOUT_MS);
      const settle = <T>(then: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        then(value);
      };
      this.waiting.push({ kind, resolve: settle(resolve), reject: settle(reject) });
    });
  }

  private failAll(error: Error): void {
    for (const pending of this.waiting.splice(0)) pending.reject(error);
  }

  private die(error: Error): void {
    this.dead ??= error;
    this.failAll(error);
  }
}

const REPORT_TIMEOUT_MS = 180_000;

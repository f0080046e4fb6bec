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

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (report: WatcherReport) => {
      if (report.kind === 'failed') {
        for (const pending of this.waiting.splice(0)) pending.reject(new Error(`watchers: ${report.error}`));
        return;
      }
      const next = this.waiting.shift();
      if (next && report.kind === next.kind) next.resolve(report);
      else next?.reject(new Error(`watchers: expected ${next.kind}, got ${report.kind}`));
    });
    child.once('exit', (code) => {
      for (const pending of this.waiting.splice(0)) pending.reject(new Error(`watcher process exited with ${code}`));
    });
  }

  static start(): WatcherProcess {
    const node = [process.execPath, '-r', 'ts-node/register/transpile-only', join(__dirname, 'watcher-main.ts')];
    // Every thread of it niced (V8's GC and compiler threads too, which `setPriority` on the pid misses).
    return new WatcherProcess(spawn('nice', ['-n', '19', ...node], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  /** Joins the clients to the session's room; resolves once all are in it. */
  async watch(command: WatcherCommand): Promise<Watching> {
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

  private next(kind: 'ready' | 'done'): Promise<WatcherReport> {
    return new Promise((resolve, reject) => this.waiting.push({ kind, resolve, reject }));
  }
}

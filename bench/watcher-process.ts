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

/**
 * `clients` Socket.IO clients watching a session's room, in their own process at the lowest CPU
 * priority. Real watchers are browsers on other machines; on this 2-core machine, clients sharing the
 * benchmark's process would take CPU from the server and the database and be counted as the cost of
 * the progress events. Niced, they use what the server and database leave idle, while everything the
 * server does to send them the events (encoding, writes, the kernel's loopback work) is still measured.
 */
export class WatcherProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly result: Promise<WatcherReport>,
  ) {}

  static async start(command: WatcherCommand): Promise<WatcherProcess> {
    const node = [process.execPath, '-r', 'ts-node/register/transpile-only', join(__dirname, 'watcher-main.ts')];
    // Every thread of it niced (V8's GC and compiler threads too, which `setPriority` on the pid misses).
    const child = spawn('nice', ['-n', '19', ...node], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const reports = (kind: 'ready' | 'done') =>
      new Promise<WatcherReport>((resolve, reject) => {
        const onMessage = (report: WatcherReport) => {
          if (report.kind === kind || report.kind === 'failed') {
            child.off('message', onMessage);
            resolve(report);
          }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`watcher process exited with ${code}`)));
      });
    const ready = reports('ready');
    const result = reports('done');
    result.catch(() => undefined);
    child.send(command);
    const first = await ready;
    if (first.kind === 'failed') throw new Error(`watchers: ${first.error}`);
    return new WatcherProcess(child, result);
  }

  /** Every client's event count and any order errors, once all have seen `sync_chats_done`. */
  async finished(): Promise<WatchersSeen> {
    const report = await this.result;
    if (report.kind !== 'done') throw new Error(`watchers: ${report.kind === 'failed' ? report.error : report.kind}`);
    return report;
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

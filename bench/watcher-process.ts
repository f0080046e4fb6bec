import { ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';

export interface WatcherCommand {
  url: string;
  sessionId: string;
  clients: number;
}
export type WatcherReport = { kind: 'ready' } | { kind: 'done'; events: number[]; errors: string[] } | { kind: 'failed'; error: string };

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
    const child = fork(join(__dirname, 'watcher-main.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    setPriority(child.pid ?? 0, 19);
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
  async finished(): Promise<{ events: number[]; errors: string[] }> {
    const report = await this.result;
    if (report.kind !== 'done') throw new Error(`watchers: ${report.kind === 'failed' ? report.error : report.kind}`);
    return report;
  }

  /**
   * Stops (SIGSTOP) or resumes (SIGCONT) the clients: stopped, they read nothing while the server
   * still sends them every event; the kernel and the server's streams keep the bytes until they resume.
   */
  pause(paused: boolean): void {
    this.child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  stop(): void {
    // SIGKILL: a paused process would keep a SIGTERM pending.
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

import { Injectable } from '@nestjs/common';
import type { WhatsappClient } from '../client/whatsapp-client.port';
import { SyncResult } from './sync.view';
import { SyncRun } from './sync-run';

interface Running {
  run: SyncRun;
  /** The client the run reads: a session started again since has another one. */
  client: WhatsappClient;
  result: Promise<SyncResult>;
}

/**
 * The runs of this process: at most one running per session (a second trigger gets the running one's
 * result), and each session's latest run, running or ended.
 */
@Injectable()
export class SyncTracker {
  private readonly running = new Map<string, Running>();
  private readonly latestRuns = new Map<string, SyncRun>();

  /** The running run of the session and its result. */
  get(sessionId: string): (Running & { latest: SyncRun['latest'] }) | undefined {
    const running = this.running.get(sessionId);
    return running && { ...running, latest: running.run.latest };
  }

  /** The session's latest run in this process, running or ended. */
  latest(sessionId: string): SyncRun | undefined {
    return this.latestRuns.get(sessionId);
  }

  /** Every running run's result, to wait for at shutdown. */
  allRunning(): Array<Promise<SyncResult>> {
    return [...this.running.values()].map((running) => running.result);
  }

  /** Registers and starts `work` synchronously, so two triggers in one tick cannot both start. */
  start(run: SyncRun, client: WhatsappClient, work: (run: SyncRun) => Promise<SyncResult>): Promise<SyncResult> {
    const entry: Running = { run, client, result: Promise.resolve(undefined as never) };
    this.running.set(run.sessionId, entry);
    this.latestRuns.set(run.sessionId, run);
    entry.result = work(run).finally(() => {
      if (this.running.get(run.sessionId) === entry) this.running.delete(run.sessionId);
    });
    return entry.result;
  }

  /** A deleted session's runs are forgotten with it. */
  forget(sessionId: string): void {
    if (!this.running.has(sessionId)) this.latestRuns.delete(sessionId);
  }
}

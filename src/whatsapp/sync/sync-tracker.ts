import { Injectable } from '@nestjs/common';
import { SyncChatsPayload } from '../events';
import { SyncResult } from './sync.view';
import { SyncRunStatus } from '../../database/entities/sync-run.entity';
import { SyncRunProgress } from './sync-run.repository';

export interface ActiveSync {
  syncId: string | undefined;
  result: Promise<SyncResult>;
  latest: SyncChatsPayload | undefined;
  /** Totals so far, fresher than the run row, which is written once a second. */
  progress: SyncRunProgress;
}

/** How a run of this process ended, kept in case its row could not be written (database down). */
export interface EndedSync {
  syncId: string;
  status: Exclude<SyncRunStatus, 'running'>;
  error: string | null;
  finishedAt: Date;
  progress: SyncRunProgress;
}

/**
 * The running sync of each session: at most one. A second trigger gets the running one's promise;
 * a socket that joins mid-run gets its latest `sync_chats`.
 */
@Injectable()
export class SyncTracker {
  private readonly active = new Map<string, ActiveSync>();
  private readonly ended = new Map<string, EndedSync>();

  get(sessionId: string): ActiveSync | undefined {
    return this.active.get(sessionId);
  }

  /** The last run of the session that ended in this process. */
  lastEnded(sessionId: string): EndedSync | undefined {
    return this.ended.get(sessionId);
  }

  recordEnd(sessionId: string, ended: EndedSync): void {
    this.ended.set(sessionId, ended);
  }

  /** Every running sync's result, to wait for at shutdown. */
  allRunning(): Array<Promise<SyncResult>> {
    return [...this.active.values()].map((active) => active.result);
  }

  /** Registers and starts `work` synchronously, so two triggers in one tick cannot both start. */
  start(sessionId: string, work: (active: ActiveSync) => Promise<SyncResult>): ActiveSync {
    const active: ActiveSync = {
      syncId: undefined,
      latest: undefined,
      progress: { nChats: 0, currentChat: 0, messagesSynced: 0, chatsFailed: 0 },
      result: Promise.resolve(undefined as never),
    };
    this.active.set(sessionId, active);
    active.result = work(active).finally(() => {
      if (this.active.get(sessionId) === active) this.active.delete(sessionId);
    });
    return active;
  }

  runningCount(): number {
    return this.active.size;
  }
}

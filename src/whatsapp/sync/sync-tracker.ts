import { Injectable } from '@nestjs/common';
import { SyncChatsPayload } from '../events';
import { SyncResult } from './sync-result';
import { SyncRunProgress } from './sync-run.repository';

export interface ActiveSync {
  syncId: string | undefined;
  result: Promise<SyncResult>;
  latest: SyncChatsPayload | undefined;
  /** Totals so far, fresher than the run row, which is written once a second. */
  progress: SyncRunProgress;
}

/**
 * The running sync of each session: at most one. A second trigger gets the running one's promise;
 * a socket that joins mid-run gets its latest `sync_chats`.
 */
@Injectable()
export class SyncTracker {
  private readonly active = new Map<string, ActiveSync>();

  get(sessionId: string): ActiveSync | undefined {
    return this.active.get(sessionId);
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

import { Injectable } from '@nestjs/common';
import { QrPayload, SessionStatusPayload, SyncChatsPayload } from '../events';
import { SyncTracker } from '../sync/sync-tracker';
import { SessionRegistry } from './session-registry';
import { SessionRepository } from './session.repository';

/** Where a session stands, as a socket that joins its room is told. */
export interface SessionSnapshot {
  /** Whether the session's client runs in this process (if not, its status is the stored one). */
  live: boolean;
  status: SessionStatusPayload;
  /** While the status is `qr`: the code to scan, once its image is rendered. */
  qr?: Promise<Omit<QrPayload, 'sessionId'>>;
  /** The latest `sync_chats` of a run going on. */
  latestSync?: SyncChatsPayload;
}

/** The join replay's source: what the registry, the session row and the running sync know. */
@Injectable()
export class SessionSnapshotService {
  constructor(
    private readonly registry: SessionRegistry,
    private readonly sessions: SessionRepository,
    private readonly syncs: SyncTracker,
  ) {}

  /**
   * `null` for a session never started. Otherwise a function that reads the snapshot when called,
   * synchronously: the caller calls it right after the socket joined, so that every event published
   * after the snapshot reaches the socket, and none published before it does twice.
   */
  async prepare(sessionId: string): Promise<(() => SessionSnapshot) | null> {
    // A session without a client in this process is known by its row, which also gives its status.
    const stored = this.registry.get(sessionId) ? undefined : await this.sessions.find(sessionId);
    if (stored === null) return null;
    return () => {
      const live = this.registry.get(sessionId);
      const status: SessionStatusPayload = live
        ? { sessionId, status: live.status, ...(live.error ? { error: live.error } : {}) }
        : { sessionId, status: stored?.status ?? 'stopped' };
      const latestSync = this.syncs.get(sessionId)?.latest;
      return { live: live !== undefined, status, ...(live?.status === 'qr' && live.qr ? { qr: live.qr } : {}), ...(latestSync ? { latestSync } : {}) };
    };
  }
}

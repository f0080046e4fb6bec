import type { EntityManager } from 'typeorm';

/** A write about a session that this instance no longer owns: refused, nothing of it stored. */
export class LeaseLostError extends Error {
  constructor(sessionId: string) {
    super(`session ${sessionId} is no longer owned by this instance; the write is refused`);
    this.name = 'LeaseLostError';
  }
}

/**
 * What a write about a session checks first: that this instance still owns the session (see
 * instances/session-lease.service.ts). `holds` is the cheap check of this process's own record, before
 * any work; `check` runs inside the write's transaction and is what fences it against a newer owner.
 */
export abstract class SessionFence {
  abstract holds(sessionId: string): boolean;
  /** Throws LeaseLostError unless the lease is still this instance's, at the generation it claimed. */
  abstract check(manager: EntityManager, sessionId: string): Promise<void>;
}

/** No fencing: for storage used on its own (tests, tools), with no sessions running. */
export const NO_FENCE: SessionFence = { holds: () => true, check: async () => undefined };

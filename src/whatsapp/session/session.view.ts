import { SessionEntity } from '../../database/entities/session.entity';
import { SessionStatus } from '../client/whatsapp.types';
import { LiveSession } from './session-registry';

/** A session as REST answers it. */
export interface SessionView {
  sessionId: string;
  status: SessionStatus;
  me: { id: string; pushName: string | null } | null;
  error: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** The instance that runs the session (INSTANCE_ID), or `null` when none does. */
  owner: string | null;
}

/** Statuses of a session whose client runs somewhere. */
const RUNNING: ReadonlySet<SessionStatus> = new Set(['starting', 'qr', 'authenticated', 'ready', 'disconnected']);

/**
 * What this process knows live wins over the row, which lags a write behind. A row that says the
 * session runs while no instance owns it (its owner died, and no instance took it over yet) shows
 * `stopped`: nothing runs it at this moment.
 */
export function toSessionView(sessionId: string, row: SessionEntity | null, live: LiveSession | undefined, owner: string | null): SessionView {
  const stored = row && RUNNING.has(row.status) && owner === null ? 'stopped' : row?.status;
  return {
    sessionId,
    status: live?.status ?? stored ?? 'stopped',
    me: live?.me ?? row?.me ?? null,
    error: live ? (live.error ?? null) : (row?.lastError ?? null),
    createdAt: row?.createdAt.toISOString() ?? null,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    owner,
  };
}

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

/** What this process knows live wins over the row, which lags a write behind. */
export function toSessionView(sessionId: string, row: SessionEntity | null, live: LiveSession | undefined, owner: string | null): SessionView {
  return {
    sessionId,
    status: live?.status ?? row?.status ?? 'stopped',
    me: live?.me ?? row?.me ?? null,
    error: live ? (live.error ?? null) : (row?.lastError ?? null),
    createdAt: row?.createdAt.toISOString() ?? null,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    owner,
  };
}

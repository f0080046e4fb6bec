import { AuthSessionRepository } from '../wwebjs/auth-session.repository';
import { SimulatedLoginStore } from './simulated-whatsapp.client';

/**
 * The simulated provider's logins with WA_AUTH_STORE=postgres: a row of `wwebjs_auth_sessions` per
 * logged-in session (no profile to keep, so an empty one), so that an instance taking a session over
 * finds it logged in, as it would a whatsapp-web.js login.
 */
export class PostgresSimulatedLogins implements SimulatedLoginStore {
  constructor(private readonly rows: AuthSessionRepository) {}

  has(sessionId: string): Promise<boolean> {
    return this.rows.exists(rowName(sessionId));
  }

  add(sessionId: string): Promise<void> {
    return this.rows.save(rowName(sessionId), Buffer.alloc(0));
  }

  delete(sessionId: string): Promise<void> {
    return this.rows.delete(rowName(sessionId));
  }
}

/** Apart from RemoteAuth's own names (`RemoteAuth-<id>`). */
const rowName = (sessionId: string): string => `simulated-${sessionId}`;

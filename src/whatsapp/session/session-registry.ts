import { Injectable } from '@nestjs/common';
import { WhatsappClient } from '../client/whatsapp-client.port';
import { SessionStatus, WaMe } from '../client/whatsapp.types';

export interface LiveSession {
  client: WhatsappClient;
  status: SessionStatus;
  error?: string;
  /** The logged-in account, known from `ready` on (the row is written a moment later). */
  me?: WaMe | null;
  /** Resolves once the QR image is rendered. */
  qr?: Promise<{ qr: string; dataUrl: string }>;
}

/** The sessions with a client in this process, and what a late socket needs to be told of them. */
@Injectable()
export class SessionRegistry {
  private readonly sessions = new Map<string, LiveSession>();

  get(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  set(sessionId: string, session: LiveSession): void {
    this.sessions.set(sessionId, session);
  }

  delete(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  all(): IterableIterator<[string, LiveSession]> {
    return this.sessions.entries();
  }
}

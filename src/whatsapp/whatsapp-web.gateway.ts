import { Inject, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  Ack,
  ConnectedSocket,
  MessageBody,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { apiKeyMatches } from '../transport/api-key';
import { errorText } from '../common/error-text';
import { SocketWritePacer } from '../transport/socket-write-pacer';
import { isValidSessionId } from './session/session-id';
import { EventPublisher } from './event-publisher';
import { PublishedEvent, ServerToClientEvents } from './events';
import { SessionSnapshot, SessionSnapshotService } from './session/session-snapshot.service';

export type JoinAck = { ok: true } | { ok: false; error: string };
type AckFn = ((response: JoinAck) => void) | undefined;
type SyncServer = Server<Record<string, never>, ServerToClientEvents>;
type SyncSocket = Socket<Record<string, never>, ServerToClientEvents>;

export const roomOf = (sessionId: string): string => `session:${sessionId}`;

const BAD_PAYLOAD = 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}';

/**
 * The Socket.IO side of the service: authenticates sockets, puts them in session rooms, and sends each
 * published event to its session's room. It subscribes to the publisher; no service imports it.
 */
@WebSocketGateway()
export class WhatsappWebGateway implements OnGatewayInit, OnApplicationShutdown {
  private readonly logger = new Logger(WhatsappWebGateway.name);
  @WebSocketServer() private readonly server: SyncServer;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly publisher: EventPublisher,
    private readonly snapshots: SessionSnapshotService,
    private readonly pacer: SocketWritePacer,
  ) {}

  afterInit(server: SyncServer): void {
    // socket.io encodes a room event once and hands it to each socket of the room, in publish order.
    this.unsubscribe = this.publisher.subscribe((published) => {
      toRoom(this.server, published);
      // A run's last event is written now, not at the pacer's next look: it precedes the HTTP answer.
      if (published.event === 'sync_chats_done' || published.event === 'sync_chats_failed') this.pacer.flushAll();
    });
    const apiKey = this.config.apiKey;
    if (!apiKey) return;
    server.use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      const given = typeof auth?.apiKey === 'string' ? auth.apiKey : socket.handshake.headers['x-api-key'];
      next(apiKeyMatches(apiKey, given) ? undefined : new Error('unauthorized'));
    });
  }

  /** After the shutdown's last events (a stopped run's `sync_chats_failed`) went out. */
  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  @SubscribeMessage('join-session')
  async joinSession(@ConnectedSocket() socket: SyncSocket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const sessionId = sessionIdOf(body);
    if (sessionId === undefined) return reply(ack, { ok: false, error: BAD_PAYLOAD });
    try {
      const snapshot = await this.snapshots.prepare(sessionId);
      if (snapshot === null) return reply(ack, { ok: false, error: `session ${sessionId} was never started` });
      // Events published before the join stay with the sockets that were there; the replay covers
      // them. From the join to the replay nothing awaits, so no event falls between the two.
      const joining = socket.join(roomOf(sessionId));
      if (joining instanceof Promise) await joining;
      reply(ack, { ok: true });
      replay(socket, sessionId, snapshot());
    } catch (error) {
      this.logger.error(`join-session failed: ${errorText(error)}`, { sessionId });
      reply(ack, { ok: false, error: 'join failed, try again' });
    }
  }

  @SubscribeMessage('leave-session')
  async leaveSession(@ConnectedSocket() socket: SyncSocket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const sessionId = sessionIdOf(body);
    if (sessionId === undefined) return reply(ack, { ok: false, error: BAD_PAYLOAD });
    // Events sent while the socket was in the room are already in its queue, ahead of the ack.
    await socket.leave(roomOf(sessionId));
    reply(ack, { ok: true });
  }
}

function toRoom(server: SyncServer, { sessionId, event, payload }: PublishedEvent): void {
  // The union's event and payload belong together; socket.io's overloads cannot see that.
  (server.to(roomOf(sessionId)).emit as (event: string, payload: unknown) => boolean)(event, payload);
}

/**
 * An acknowledgement is queued on the socket after every room event sent to it before: a client's
 * round trip is also a barrier for the events.
 */
function reply(ack: AckFn, response: JoinAck): void {
  if (typeof ack === 'function') ack(response);
}

/** A late or reconnecting socket learns at once where the session and its sync stand. */
function replay(socket: SyncSocket, sessionId: string, snapshot: SessionSnapshot): void {
  socket.emit('session_status', snapshot.status);
  void snapshot.qr?.then((qr) => socket.emit('qr', { sessionId, ...qr }));
  if (snapshot.latestSync) socket.emit('sync_chats', snapshot.latestSync);
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const sessionId = (body as { sessionId?: unknown }).sessionId;
  return isValidSessionId(sessionId) ? sessionId : undefined;
}

import { Inject, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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
import { RedisConnection } from '../redis/redis-connection';
import { useRedisAdapter } from '../transport/redis-socket-adapter';
import { SocketWritePacer } from '../transport/socket-write-pacer';
import { isValidSessionId } from './session/session-id';
import { EventPublisher } from './event-publisher';
import { PublishedEvent, ServerToClientEvents } from './events';
import { SessionSnapshot, SessionSnapshotService } from './session/session-snapshot.service';

export type JoinAck = { ok: true } | { ok: false; error: string };
type AckFn = ((response: JoinAck) => void) | undefined;
/** Between instances (with REDIS_URL): "replay this session to that socket, if its client runs with you". */
interface ServerSideEvents {
  'session-replay': (request: { sessionId: string; socketId: string }, ack: (replayed: boolean) => void) => void;
}
type SyncServer = Server<Record<string, never>, ServerToClientEvents, ServerSideEvents>;
type SyncSocket = Socket<Record<string, never>, ServerToClientEvents, ServerSideEvents>;
/** A socket, or one reached through the adapter (`server.to(socketId)`). */
type Emitter = Pick<ReturnType<SyncServer['to']>, 'emit'>;


export const roomOf = (sessionId: string): string => `session:${sessionId}`;

const BAD_PAYLOAD = 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}';

/**
 * The Socket.IO side of the service: authenticates sockets, puts them in session rooms, and sends each
 * published event to its session's room. It subscribes to the publisher; no service imports it.
 */
@WebSocketGateway()
export class WhatsappWebGateway implements OnGatewayInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WhatsappWebGateway.name);
  @WebSocketServer() private readonly server: SyncServer;
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly publisher: EventPublisher,
    private readonly snapshots: SessionSnapshotService,
    private readonly pacer: SocketWritePacer,
    private readonly redis: RedisConnection,
  ) {}

  /** After Redis connected (a module init), before the first client is let in. */
  onApplicationBootstrap(): void {
    if (!this.redis.enabled) return;
    useRedisAdapter(this.server, this.redis);
    this.server.on('session-replay', (request, ack) => {
      this.replayHere(request.sessionId, request.socketId).then(ack, (error: unknown) => {
        this.logger.warn(`replay for another instance failed: ${errorText(error)}`, { sessionId: request.sessionId });
        ack(false);
      });
    });
  }

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
      const now = snapshot();
      if (now.live || !this.redis.enabled) return replay(socket, sessionId, now);
      // Its client runs on another instance, if any: that one replays, through the adapter, so that
      // its replay and its room events reach the socket in the order it sent them.
      // The answers that came within the adapter's request timeout count, even when one instance did not answer.
      const answers = await new Promise<boolean[]>((resolve) =>
        this.server.serverSideEmit('session-replay', { sessionId, socketId: socket.id }, (_error: Error | null, responses: boolean[]) => resolve(responses ?? [])),
      );
      if (!answers.includes(true)) replay(socket, sessionId, snapshot());
    } catch (error) {
      this.logger.error(`join-session failed: ${errorText(error)}`, { sessionId });
      reply(ack, { ok: false, error: 'join failed, try again' });
    }
  }

  /** Replays a session whose client runs here to a socket of another instance; `false` when it does not run here. */
  private async replayHere(sessionId: string, socketId: string): Promise<boolean> {
    const snapshot = await this.snapshots.prepare(sessionId);
    const now = snapshot?.();
    if (!now?.live) return false;
    replay(this.server.to(socketId), sessionId, now);
    return true;
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
function replay(socket: Emitter, sessionId: string, snapshot: SessionSnapshot): void {
  socket.emit('session_status', snapshot.status);
  void snapshot.qr?.then((qr) => socket.emit('qr', { sessionId, ...qr }));
  if (snapshot.latestSync) socket.emit('sync_chats', snapshot.latestSync);
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const sessionId = (body as { sessionId?: unknown }).sessionId;
  return isValidSessionId(sessionId) ? sessionId : undefined;
}

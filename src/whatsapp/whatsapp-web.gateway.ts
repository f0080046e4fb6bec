import { Inject, Logger } from '@nestjs/common';
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
import { SessionEntity } from '../database/entities/session.entity';
import { apiKeyMatches } from '../common/api-key';
import { errorText } from '../common/error-text';
import { RoomBatcher, roomBatcherOf } from '../common/room-batcher';
import { isValidSessionId } from './session/session-id';
import {
  MessagePayload,
  QrPayload,
  ServerToClientEvents,
  SessionStatusPayload,
  SyncChatsDonePayload,
  SyncChatsFailedPayload,
  SyncChatsPayload,
} from './events';
import { SessionRegistry } from './session/session-registry';
import { SessionRepository } from './session/session.repository';
import { SyncTracker } from './sync/sync-tracker';

export type JoinAck = { ok: true } | { ok: false; error: string };
type AckFn = ((response: JoinAck) => void) | undefined;
type SyncServer = Server<Record<string, never>, ServerToClientEvents>;

export const roomOf = (sessionId: string): string => `session:${sessionId}`;

/**
 * The Socket.IO side of the service: authenticates sockets, manages session rooms, and sends typed
 * events to one session's room only. Services call the `emit*` methods; they never see socket.io.
 */
@WebSocketGateway()
export class WhatsappWebGateway implements OnGatewayInit {
  private readonly logger = new Logger(WhatsappWebGateway.name);
  @WebSocketServer() private readonly server: SyncServer;
  private rooms: RoomBatcher;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: SessionRegistry,
    private readonly tracker: SyncTracker,
    private readonly sessions: SessionRepository,
  ) {}

  afterInit(server: SyncServer): void {
    this.rooms = roomBatcherOf(server as Server);
    const apiKey = this.config.apiKey;
    if (!apiKey) return;
    server.use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      const given = typeof auth?.apiKey === 'string' ? auth.apiKey : socket.handshake.headers['x-api-key'];
      next(apiKeyMatches(apiKey, given) ? undefined : new Error('unauthorized'));
    });
  }

  @SubscribeMessage('join-session')
  async joinSession(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const sessionId = sessionIdOf(body);
    if (sessionId === undefined) return this.reply(socket, ack, { ok: false, error: 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}' });
    try {
      // A session without a client in this process is known by its row, which also gives its status.
      const stored = this.registry.get(sessionId) ? undefined : await this.sessions.find(sessionId);
      if (stored === null) return this.reply(socket, ack, { ok: false, error: `session ${sessionId} was never started` });
      // Events sent before the join stay with the sockets that were there; the replay covers them.
      await this.rooms.join(socket, roomOf(sessionId));
      this.reply(socket, ack, { ok: true });
      this.replayState(socket, sessionId, stored);
    } catch (error) {
      this.logger.error(`session=${sessionId} join-session failed: ${errorText(error)}`);
      this.reply(socket, ack, { ok: false, error: 'join failed, try again' });
    }
  }

  @SubscribeMessage('leave-session')
  async leaveSession(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown, @Ack() ack: AckFn): Promise<void> {
    const sessionId = sessionIdOf(body);
    if (sessionId === undefined) return this.reply(socket, ack, { ok: false, error: 'payload must be {"sessionId": "<1-64 of A-Z a-z 0-9 _ ->"}' });
    // Events sent while the socket was in the room are still its own.
    await this.rooms.leave(socket, roomOf(sessionId));
    this.reply(socket, ack, { ok: true });
  }

  emitSyncChats(sessionId: string, payload: SyncChatsPayload): void {
    this.toRoom(sessionId, 'sync_chats', payload);
  }

  /** A run's last event leaves at once, with what waited before it: it precedes the run's HTTP answer. */
  emitSyncDone(sessionId: string, payload: SyncChatsDonePayload): void {
    this.toRoom(sessionId, 'sync_chats_done', payload);
    this.rooms.flush(roomOf(sessionId));
  }

  emitSyncFailed(sessionId: string, payload: SyncChatsFailedPayload): void {
    this.toRoom(sessionId, 'sync_chats_failed', payload);
    this.rooms.flush(roomOf(sessionId));
  }

  emitSessionStatus(sessionId: string, payload: SessionStatusPayload): void {
    this.toRoom(sessionId, 'session_status', payload);
  }

  emitQr(sessionId: string, payload: QrPayload): void {
    this.toRoom(sessionId, 'qr', payload);
  }

  emitMessage(sessionId: string, payload: MessagePayload): void {
    this.toRoom(sessionId, 'message', payload);
  }

  /** Every event to a session's room goes through the batcher, which keeps their order. */
  private toRoom<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void {
    this.rooms.emit(roomOf(sessionId), event, payload);
  }

  /**
   * An acknowledgement follows every room event sent to the socket before it: what its rooms hold
   * leaves first, so that a client's round trip is also a barrier for the events.
   */
  private reply(socket: Socket, ack: AckFn, response: JoinAck): void {
    for (const room of socket.rooms) this.rooms.flush(room);
    if (typeof ack === 'function') ack(response);
  }

  /** A late or reconnecting socket learns at once where the session and its sync stand. */
  private replayState(socket: Socket, sessionId: string, stored: SessionEntity | undefined): void {
    const live = this.registry.get(sessionId);
    if (live) {
      socket.emit('session_status', { sessionId, status: live.status, ...(live.error ? { error: live.error } : {}) });
      if (live.status === 'qr') void live.qr?.then((qr) => socket.emit('qr', { sessionId, ...qr }));
    } else if (stored) {
      socket.emit('session_status', { sessionId, status: stored.status });
    }
    const latest = this.tracker.get(sessionId)?.latest;
    if (latest) socket.emit('sync_chats', latest);
  }
}

function sessionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const sessionId = (body as { sessionId?: unknown }).sessionId;
  return isValidSessionId(sessionId) ? sessionId : undefined;
}

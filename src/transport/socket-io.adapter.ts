import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { IncomingMessage } from 'node:http';
import type { Server, ServerOptions } from 'socket.io';
import { AppConfig } from '../config/app-config';
import { lacksRequiredHost, MISSING_HOST_MESSAGE } from './express-adapter';
import { OriginPolicy } from './origin-policy';
import { SocketWritePacer } from './socket-write-pacer';

/**
 * The largest message a client may send. Clients send only `join-session` and `leave-session`
 * (`{sessionId}`, at most 64 characters); a bigger message closes that client's connection without
 * being parsed, and touches no other socket. (Socket.IO's own default is 1 MB.)
 */
export const MAX_CLIENT_MESSAGE_BYTES = 128 * 1024;

/** Socket.IO on the HTTP server's port, with the same CORS origins and origin rules as REST, enforced at the handshake. */
export class SocketIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly originPolicy: OriginPolicy,
    private readonly pacer: SocketWritePacer,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origin = this.config.corsOrigins === '*' ? true : this.config.corsOrigins;
    return super.createIOServer(port, {
      ...options,
      cors: { origin, credentials: true },
      maxHttpBufferSize: MAX_CLIENT_MESSAGE_BYTES,
      // ws, with busy sockets' writes paced (see SocketWritePacer).
      wsEngine: this.pacer.wsEngine(),
      // CORS headers do not bind WebSocket upgrades: a page of another site (or of a name rebound to
      // this address) is refused here instead, by the same rules as REST. Socket.IO answers its own
      // paths before Express, so the Host rule of REST is applied here too.
      allowRequest: (request: IncomingMessage, callback: (error: string | null | undefined, success: boolean) => void) =>
        lacksRequiredHost(request) ? callback(MISSING_HOST_MESSAGE, false) : callback(null, this.originPolicy.allowsHandshake(request)),
    }) as Server;
  }

  /**
   * Runs after the shutdown hooks (which send a stopped run's `sync_chats_failed`) and before the
   * HTTP server destroys the connections: what paced sockets hold is written first.
   */
  override async close(server: Server): Promise<void> {
    this.pacer.stop();
    await new Promise((resolve) => setImmediate(resolve));
    return super.close(server);
  }
}

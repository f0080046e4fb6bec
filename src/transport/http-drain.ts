import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/** How long REST requests in flight may take to finish once shutdown starts. */
export const HTTP_DRAIN_MS = 3000;

/**
 * At shutdown, before the WhatsApp clients and the database are closed: stop accepting connections,
 * close idle keep-alive ones, and give REST requests in flight up to `HTTP_DRAIN_MS` to finish.
 * Whatever is still open then (a sync answers only when it is over, which can take minutes) is
 * closed by Nest's `forceCloseConnections`, so shutdown never waits on a client. Socket.IO
 * connections are not waited for: Socket.IO closes them itself.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private inFlight = 0;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    this.server()?.on('request', (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.startsWith('/socket.io/')) return;
      this.inFlight++;
      response.once('close', () => this.inFlight--);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server();
    if (!server?.listening) return;
    server.close();
    server.closeIdleConnections();
    const deadline = Date.now() + HTTP_DRAIN_MS;
    while (this.inFlight > 0 && Date.now() < deadline) await delay(20);
    if (this.inFlight > 0) this.logger.warn(`closing ${this.inFlight} request(s) still going after ${HTTP_DRAIN_MS} ms`);
  }

  private server(): Server | undefined {
    return this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
  }
}

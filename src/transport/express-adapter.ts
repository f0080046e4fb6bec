import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ErrorBody } from './all-exceptions.filter';

export const MISSING_HOST_MESSAGE = 'An HTTP/1.1 request needs a Host header';

/**
 * Nest's Express adapter with two differences, both made before Nest adds anything to Express:
 * - Routing is case-sensitive: `/HEALTH` or `/WHATSAPP-WEB/sessions` are 404s, not other spellings of
 *   `/health` and `/whatsapp-web/sessions`. (Express reads `case sensitive routing` when its router is
 *   created, and Nest's adapter creates it in its constructor: a later `app.set` has no effect.)
 * - The HTTP server is created with `requireHostHeader: false`, so that an HTTP/1.1 request without
 *   `Host` reaches the app and is answered there with a JSON 400 (`missingHostAnswer`) instead of
 *   Node's own empty 400. The RFC 9112 rule is kept, only the answer changes.
 * `forceCloseConnections` is honoured as by Nest's adapter: the connections still open are destroyed
 * when the server closes.
 */
export class AppExpressAdapter extends ExpressAdapter {
  private readonly connections = new Set<Socket>();

  constructor() {
    super(express().enable('case sensitive routing'));
  }

  override initHttpServer(options: NestApplicationOptions): void {
    const server = createServer({ requireHostHeader: false }, this.getInstance());
    if (options.forceCloseConnections) {
      server.on('connection', (socket: Socket) => {
        this.connections.add(socket);
        socket.once('close', () => this.connections.delete(socket));
      });
    }
    this.setHttpServer(server);
  }

  override close(): Promise<unknown> | undefined {
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
    return super.close();
  }
}

/** RFC 9112, 3.2: an HTTP/1.1 request without a Host header must be answered 400 (an empty Host is allowed). */
export function lacksRequiredHost(request: Pick<IncomingMessage, 'httpVersionMajor' | 'httpVersionMinor' | 'headers'>): boolean {
  return request.httpVersionMajor === 1 && request.httpVersionMinor === 1 && request.headers.host === undefined;
}

/** Express middleware: the JSON 400 for an HTTP/1.1 request without Host; the connection is closed after it, as Node does. */
export function missingHostAnswer() {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!lacksRequiredHost(request)) return next();
    const body: ErrorBody = { statusCode: 400, error: 'Bad Request', message: MISSING_HOST_MESSAGE };
    response.status(400).set('Connection', 'close').json(body);
  };
}

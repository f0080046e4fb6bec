import { Injectable, Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errorText } from '../common/error-text';
import type { ErrorBody } from '../transport/all-exceptions.filter';
import { SessionLeaseService } from './session-lease.service';

/** Set on a forwarded call: the owner carries it out itself, whatever it thinks of the lease by then (no loops). */
export const FORWARDED_BY_HEADER = 'x-wa-forwarded-by';

/** The routes about one session: `/whatsapp-web/session/<id>` and below. */
const SESSION_ROUTE = /^\/whatsapp-web\/session\/([^/?#]+)/;

/** Hop-by-hop headers (RFC 9110, 7.6.1) and those the forwarded request or answer sets anew. */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length', 'content-encoding']);

/**
 * Every instance answers every REST call: one about a session that another live instance owns is
 * sent on to that owner over HTTP (its lease names its address) and its answer relayed as it is:
 * status, headers, body. The owner applies the API key, the rate limit and every rule itself, so a
 * client sees exactly what the owner would have answered, one run per session included. HTTP rather
 * than a job queue: the call is answered while the client waits, streams (a sync answers when it
 * ends), and needs nothing beyond the instances themselves.
 */
@Injectable()
export class OwnerForwarding {
  private readonly logger = new Logger(OwnerForwarding.name);

  constructor(private readonly leases: SessionLeaseService) {}

  middleware(): RequestHandler {
    return (request, response, next) => void this.route(request, response, next);
  }

  private async route(request: Request, response: Response, next: NextFunction): Promise<void> {
    const match = SESSION_ROUTE.exec(request.path);
    if (!match || request.headers[FORWARDED_BY_HEADER] !== undefined) return next();
    let sessionId: string;
    try {
      sessionId = decodeURIComponent(match[1]);
    } catch {
      return next();
    }
    const owner = await this.leases.ownerOf(sessionId).catch(() => null);
    // Nobody else runs it (or the database cannot tell): this instance answers.
    if (!owner || owner.self || !owner.address) return next();
    await this.forward(request, response, owner.address, owner.owner, sessionId);
  }

  private async forward(request: Request, response: Response, address: string, owner: string, sessionId: string): Promise<void> {
    const aborted = new AbortController();
    response.once('close', () => aborted.abort());
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || NOT_COPIED.has(name)) continue;
      for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
    }
    headers.set(FORWARDED_BY_HEADER, this.leases.instanceId);
    headers.set('x-forwarded-for', [request.headers['x-forwarded-for'], request.socket.remoteAddress].filter(Boolean).join(', '));
    const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
    if (hasBody) headers.set('content-type', 'application/json');
    let answer: globalThis.Response;
    try {
      answer = await fetch(new URL(request.originalUrl, address), {
        method: request.method,
        headers,
        body: hasBody ? JSON.stringify(request.body) : undefined,
        redirect: 'manual',
        signal: aborted.signal,
      });
    } catch (error) {
      if (aborted.signal.aborted) return;
      this.logger.warn(`forward to ${owner} at ${address} failed: ${errorText(error)}`, { sessionId });
      const body: ErrorBody = {
        statusCode: 503,
        error: 'Service Unavailable',
        message: `Session ${sessionId} is run by instance ${owner}, which does not answer; if it is gone, another instance takes the session over within SESSION_LEASE_TTL_MS`,
      };
      response.status(503).json(body);
      return;
    }
    response.status(answer.status);
    // fetch hands over a compressed answer decompressed: its length then is not the body's.
    const decoded = answer.headers.has('content-encoding');
    answer.headers.forEach((value, name) => {
      if (name === 'content-length' && !decoded) return void response.setHeader(name, value);
      // The owner's own headers replace those this instance set (security headers, CORS).
      if (!NOT_COPIED.has(name)) response.setHeader(name, value);
    });
    if (!answer.body) {
      response.end();
      return;
    }
    Readable.fromWeb(answer.body as WebReadableStream<Uint8Array>)
      .on('error', () => response.destroy())
      .pipe(response);
  }
}

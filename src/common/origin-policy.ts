import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { ErrorBody } from './all-exceptions.filter';

/**
 * `CORS_ORIGINS` enforced, not only advertised: with a list configured, a request that carries an
 * `Origin` header which is neither on the list nor this service's own host is refused, on REST and
 * on the Socket.IO handshake alike. CORS headers alone would let a page of another site still send
 * a request that acts (a stop, a sync) and only hide the answer from it. Requests without `Origin`
 * (curl, servers, socket.io-client in Node) are not browsers' cross-site requests and pass.
 */
export function originAllowed(config: Pick<AppConfig, 'corsOrigins'>, request: Pick<IncomingMessage, 'headers'>): boolean {
  const origin = request.headers.origin;
  if (config.corsOrigins === '*' || origin === undefined) return true;
  if (config.corsOrigins.includes(origin)) return true;
  return sameHost(origin, request.headers.host);
}

/** The dashboard served by this service calls it from its own origin, whatever CORS_ORIGINS says. */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/** Express middleware: a JSON 403 for a browser request from an origin that is not allowed. */
export function originPolicy(config: Pick<AppConfig, 'corsOrigins'>) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (originAllowed(config, request)) return next();
    const body: ErrorBody = { statusCode: 403, error: 'Forbidden', message: `Origin ${request.headers.origin} is not allowed (CORS_ORIGINS)` };
    response.status(403).json(body);
  };
}

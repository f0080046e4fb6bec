import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { AppConfig } from '../config/app-config';
import { ErrorBody } from './all-exceptions.filter';

/**
 * Which browser requests the service serves, on REST and on the Socket.IO handshake alike. CORS
 * headers alone only hide answers from pages of other sites; they do not stop those pages from
 * making the service act (an `<img>` on `GET chats` syncs). With `CORS_ORIGINS` set to a list:
 *
 * 1. A request with `Origin` passes when that origin is the service's own or listed, else 403.
 *    (Current browsers send `Origin` on POST and DELETE and on WebSocket handshakes, whatever the scheme.)
 * 2. Without `Origin`, `Sec-Fetch-Site` (sent by browsers to https and loopback addresses):
 *    `none` (a typed URL, a bookmark) passes; `cross-site`, `same-site` or anything else is refused:
 *    a page of another site made it (`<img>`, a link, a no-cors `HEAD`).
 * 3. `Sec-Fetch-Site: same-origin`, or a browser (`User-Agent: Mozilla/...`) that sent no Fetch
 *    Metadata (plain http to a name or a LAN address): the `Host` it went to must be the host of an
 *    own or listed origin. A page whose name was rebound to this address (DNS rebinding) is
 *    same-origin with itself, and its `Host` is its own name.
 * 4. A browser that sent neither `Origin` nor `Sec-Fetch-Site` cannot make `GET chats` sync: over
 *    plain http an `<img>` of another site looks just like that (it may use `?sync=false`).
 * 5. Anything else (curl, servers, socket.io-client in Node: no `Origin`, no Fetch Metadata, not a
 *    browser's User-Agent) passes. A page cannot change the User-Agent of its requests without a
 *    preflight, and a preflight carries `Origin` (rule 1).
 *
 * Rules 2 to 4 spare the routes that never act and show nothing private (`/health`, `/docs`); the
 * static files are served before this check. The service's own origins come from its configuration
 * and its listening socket (see `ownOrigins`), never from the request: `Host` is only compared with
 * them. `CORS_ORIGINS=*` lets every request through, as it always did.
 */
export interface OriginRules {
  corsOrigins: string[] | '*';
  /** The service's own origins: `PUBLIC_URL`'s and those of the listening address. */
  ownOrigins: readonly string[];
}

export type OriginRequest = Pick<IncomingMessage, 'headers'> & { method?: string; url?: string };

/** Paths that answer the same to anyone and change nothing: rules 2 to 4 do not apply to them. */
const INERT_PATHS: ReadonlySet<string> = new Set(['/health', '/whatsapp-web/health', '/docs', '/docs-json', '/docs-yaml']);

/**
 * The one GET that acts (the seed's rule): `GET /whatsapp-web/session/:id/chats` syncs unless
 * `sync=false`. Matched as Express routes: on the raw path, whatever its case, with or without a
 * trailing slash.
 */
const CHATS_PATH = /^\/whatsapp-web\/session\/[^/]+\/chats\/?$/i;

function inert(path: string): boolean {
  return INERT_PATHS.has(path) || path.startsWith('/docs/');
}

function isBrowser(request: OriginRequest): boolean {
  return /^Mozilla\//.test(request.headers['user-agent'] ?? '');
}

function syncsOnGet(method: string | undefined, path: string, query: URLSearchParams): boolean {
  if (method !== 'GET' || !CHATS_PATH.test(path)) return false;
  const sync = query.getAll('sync');
  return !(sync.length === 1 && sync[0] === 'false');
}

/**
 * The path as Express routes it (raw, not normalized: `new URL` would resolve `..` and `\`, and a
 * path the router sends to an API route could then look like `/docs/...`), and the query.
 */
function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const mark = url.indexOf('?');
  return mark < 0 ? { path: url, query: new URLSearchParams() } : { path: url.slice(0, mark), query: new URLSearchParams(url.slice(mark + 1)) };
}

/** `undefined` when the request may go on; otherwise the message of its 403. */
export function originRefusal(rules: OriginRules, request: OriginRequest): string | undefined {
  if (rules.corsOrigins === '*') return undefined;
  const allowed = [...rules.ownOrigins, ...rules.corsOrigins];
  const origin = request.headers.origin;
  if (origin !== undefined) return allowed.includes(origin) ? undefined : `Origin ${origin} is not allowed (CORS_ORIGINS)`;
  const { path, query } = splitUrl(request.url ?? '/');
  const site = request.headers['sec-fetch-site'];
  if (inert(path) || site === 'none') return undefined;
  if (site !== undefined && site !== 'same-origin') {
    return `Cross-site request refused (Sec-Fetch-Site: ${String(site)}, no Origin): only pages of the origins in CORS_ORIGINS may call the API`;
  }
  if (site === undefined && !isBrowser(request)) return undefined;
  const host = request.headers.host;
  if (host === undefined || !allowed.some((candidate) => hostOf(candidate) === normalizedHost(host))) {
    return `Host ${host ?? '(none)'} is not an address of this service (PUBLIC_URL, CORS_ORIGINS)`;
  }
  if (site === undefined && syncsOnGet(request.method, path, query)) {
    return 'A browser request with neither Origin nor Sec-Fetch-Site cannot sync (a page of another site could have made it): use POST sync-chats, or GET chats?sync=false';
  }
  return undefined;
}

/**
 * The service's own origins: `PUBLIC_URL`'s origin when set, plus those of the address it listens
 * on, `http://` only (it serves no TLS itself): for a wildcard or loopback address `localhost`,
 * `127.0.0.1` (and `[::1]` where IPv6 is bound), for another address that address. `PUBLIC_URL`
 * is how the service is reached by any other name (a LAN address, a reverse proxy's name).
 */
export function ownOrigins(publicOrigin: string | undefined, listening: AddressInfo | null): string[] {
  const origins = publicOrigin ? [publicOrigin] : [];
  if (!listening) return origins;
  for (const name of listeningNames(listening.address)) origins.push(new URL(`http://${name}:${listening.port}`).origin);
  return origins;
}

function listeningNames(address: string): string[] {
  switch (address) {
    case '0.0.0.0':
      return ['localhost', '127.0.0.1'];
    case '::':
      return ['localhost', '127.0.0.1', '[::1]'];
    case '::1':
      return ['localhost', '[::1]'];
    default:
      if (address.startsWith('127.')) return ['localhost', address];
      return [isIPv6(address) ? `[${address}]` : address];
  }
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** `Host` as `URL` writes hosts: lower case, no default port (browsers send none either). */
function normalizedHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).host;
  } catch {
    return undefined;
  }
}

/** The rules of this running service: its own origins are known once it listens. */
export class OriginPolicy {
  private listeningOrigins: readonly string[] | undefined;

  constructor(
    private readonly config: Pick<AppConfig, 'corsOrigins' | 'publicOrigin'>,
    private readonly listening: () => AddressInfo | string | null,
  ) {}

  /** The message of the 403, or `undefined` when the request may go on. */
  refusal(request: OriginRequest): string | undefined {
    return originRefusal({ corsOrigins: this.config.corsOrigins, ownOrigins: this.ownOrigins() }, request);
  }

  ownOrigins(): readonly string[] {
    if (this.listeningOrigins) return this.listeningOrigins;
    const address = this.listening();
    const origins = ownOrigins(this.config.publicOrigin, typeof address === 'object' ? address : null);
    // Cached only once listening: before that there is no port (and no request either).
    if (address) this.listeningOrigins = origins;
    return origins;
  }

  /** Express middleware: a JSON 403 for a browser request that the rules refuse. */
  middleware() {
    return (request: Request, response: Response, next: NextFunction): void => {
      const message = this.refusal({ headers: request.headers, method: request.method, url: request.originalUrl });
      if (message === undefined) return next();
      const body: ErrorBody = { statusCode: 403, error: 'Forbidden', message };
      response.status(403).json(body);
    };
  }

  /** For Socket.IO's `allowRequest`. */
  allowsHandshake(request: IncomingMessage): boolean {
    return this.refusal(request) === undefined;
  }
}

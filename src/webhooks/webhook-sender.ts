import { createHmac } from 'node:crypto';
import { LookupAddress, LookupOptions, lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPrivateAddress } from './private-address';

/** What one POST came to. */
export interface SendOutcome {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** Cut short by `signal` (a shutdown): the attempt does not count. */
  interrupted: boolean;
}

/** Why an attempt cut short by its signal ended. */
const INTERRUPTED = 'interrupted: the service is shutting down';

/** How much of an answer's body is read (and dropped) before the connection is let go. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** `sha256=<hex>` over `"<timestamp>.<body>"`, as a receiver recomputes it. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs a delivery: delivered on a 2xx answer only (a redirect is not followed, and counts as a
 * failure), within `timeoutMs` from the start to the end of the answer. With `allowPrivate` false,
 * a host that is, or resolves to, a private, loopback or link-local address is refused before
 * connecting (checked on the address the connection uses, so a DNS answer cannot change after the check).
 */
export function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<SendOutcome> {
  const started = Date.now();
  let interrupted = false;
  const outcome = (statusCode: number | null, error: string | null): SendOutcome =>
    interrupted
      ? { delivered: false, statusCode, error: INTERRUPTED, durationMs: Date.now() - started, interrupted }
      : { delivered: error === null && statusCode !== null && statusCode >= 200 && statusCode < 300, statusCode, error, durationMs: Date.now() - started, interrupted };
  return new Promise<SendOutcome>((resolve) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (!options.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
      resolve(outcome(null, `refused: ${host} is a private address (WEBHOOK_ALLOW_PRIVATE=false)`));
      return;
    }
    const request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'whatsapp-sync-webhooks', ...headers },
        ...(options.allowPrivate ? {} : { lookup: publicOnlyLookup }),
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('close', () => {
          clearTimeout(timer);
          const statusCode = response.statusCode ?? null;
          const complete = response.complete || read > MAX_ANSWER_BYTES;
          if (!complete) resolve(outcome(statusCode, 'the connection closed before the answer ended'));
          else if (statusCode !== null && statusCode >= 300 && statusCode < 400) resolve(outcome(statusCode, `redirect to ${response.headers.location ?? '(no location)'} not followed`));
          else if (statusCode !== null && (statusCode < 200 || statusCode >= 300)) resolve(outcome(statusCode, `answered ${statusCode}`));
          else resolve(outcome(statusCode, null));
        });
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const interrupt = () => {
      interrupted = true;
      request.destroy(new Error(INTERRUPTED));
    };
    if (options.signal?.aborted) interrupt();
    options.signal?.addEventListener('abort', interrupt, { once: true });
    request.once('close', () => options.signal?.removeEventListener('abort', interrupt));
    request.on('error', (error) => {
      clearTimeout(timer);
      resolve(outcome(null, error.message));
    });
    request.end(body);
  });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup, failing when any address it answers is private: the connection then cannot reach one. */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(Object.assign(new Error(`refused: ${hostname} resolves to the private address ${refused.address} (WEBHOOK_ALLOW_PRIVATE=false)`), { code: 'EPRIVATE' }), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

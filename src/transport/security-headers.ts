import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The Content-Security-Policy of every answer. The dashboard (`public/`) and the Swagger UI at
 * `/docs` load only scripts of this origin; the Swagger UI has inline `<style>` blocks, and the
 * dashboard shows the QR as a `data:` image, and media fetched with the API key as `blob:` URLs of
 * its own (an <img> cannot send the key). Socket.IO connects to this origin too (`'self'` covers
 * `ws:`/`wss:` of the same host). `upgrade-insecure-requests` is left out: the service is often
 * reached over plain HTTP on a private network, where it would break the page.
 */
export const CONTENT_SECURITY_POLICY: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'self'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'media-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
};

/** helmet's headers (nosniff, frame options, referrer policy, HSTS over HTTPS, ...) with the policy above. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  }) as RequestHandler;
}

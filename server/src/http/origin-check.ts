import type { FastifyRequest } from 'fastify';
import { AuthError } from '../errors.ts';

/**
 * CSRF defence for requests authenticated by the refresh cookie alone (refresh, cookie logout).
 *
 * 1. The body must be declared JSON: a cross-site form or `text/plain` fetch cannot send
 *    `Content-Type: application/json` without a CORS preflight, which only listed origins pass.
 * 2. A browser's `Origin` must be one we serve: the origin whose host is the request's Host, the
 *    public URL's, or one listed in CORS_ORIGINS (OWASP CSRF Prevention Cheat Sheet, "Verifying
 *    origin with standard headers"). `Origin: null` (sandboxed frames, privacy redirects) is
 *    refused. A request with no Origin at all is not from a browser's fetch (browsers always send
 *    it on POST), so it cannot be a cross-site forgery and is let through; curl users need nothing.
 */
export function createOriginCheck(allowedOrigins: readonly string[]) {
  const isServed = createServedOrigins(allowedOrigins);
  return function assertCookieRequestAllowed(request: FastifyRequest): void {
    const contentType = request.headers['content-type'];
    if (contentType === undefined || !/^application\/json\s*(;|$)/i.test(contentType)) {
      throw new AuthError('unsupported_media_type');
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!isServed(origin, request.host)) throw new AuthError('origin_rejected');
  };
}

/**
 * The one rule for which browser origins this server serves: the origin whose host is the
 * request's Host (same origin, also behind a dev-server proxy that keeps Host), and the listed
 * ones (PUBLIC_URL's origin, CORS_ORIGINS). Other origins get no CORS headers, and their
 * cookie-authenticated requests answer 403 origin_rejected.
 */
export function createServedOrigins(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return function isServedOrigin(origin: string, host: string): boolean {
    if (allowed.has(origin)) return true;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host;
    } catch {
      return false; // not a URL (`null` among them)
    }
  };
}

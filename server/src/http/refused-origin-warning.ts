import type { FastifyInstance } from 'fastify';
import { createServedOrigins } from './origin-check.ts';

/**
 * How many distinct refused origins are reported: a misconfiguration shows in the first line,
 * and a client that makes up origins cannot fill the log (OWASP Logging Cheat Sheet, "log
 * injection" and volume) or grow this set without bound.
 */
const MAX_ORIGINS_REPORTED = 100;

/**
 * Logs one warning line, once per origin, when a browser request comes from an origin this
 * server does not serve. The browser then hides the answer from the page (no CORS headers), or
 * the server refuses a cookie request with 403 origin_rejected; in the app both look like "the
 * server could not be reached", so the operator needs to read here which origin was refused and
 * which setting admits it.
 */
export function registerRefusedOriginWarning(
  app: FastifyInstance,
  options: { publicUrl: string; corsOrigins: readonly string[] },
): void {
  const isServed = createServedOrigins([options.publicUrl, ...options.corsOrigins]);
  const reported = new Set<string>();
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    if (origin === undefined || isServed(origin, request.host)) return;
    if (reported.has(origin) || reported.size >= MAX_ORIGINS_REPORTED) return;
    reported.add(origin);
    const listed = options.corsOrigins.length === 0 ? 'empty' : options.corsOrigins.join(', ');
    request.log.warn(
      { event: 'origin_refused', origin, publicUrl: options.publicUrl },
      `refused requests from Origin ${JSON.stringify(origin)}: it is not this server's origin ` +
        `(PUBLIC_URL=${options.publicUrl}) and not in CORS_ORIGINS (${listed}). Serve the app ` +
        "and the API on one origin (in development, a dev-server proxy such as Angular's " +
        'proxy.conf.json), or add that origin to CORS_ORIGINS',
    );
  });
}

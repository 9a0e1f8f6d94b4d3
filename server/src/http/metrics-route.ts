import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../errors.ts';
import type { Metrics } from '../services/metrics.ts';
import { bearerToken } from './bearer-token.ts';

export interface MetricsRouteOptions {
  /** METRICS_TOKEN; unset: /metrics answers 404 and no request is counted. */
  token: string | undefined;
  metrics: Metrics;
}

/** SHA-256 first: timingSafeEqual needs equal lengths, and the digest hides the token's. */
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` (v2 contract, "Metrics"): the Prometheus text format for a request that sends
 * `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time; 401 for none or another.
 * Without METRICS_TOKEN the route still exists and answers 404, so the web app's history
 * fallback cannot answer it with index.html. Its answers are never cached (security-headers.ts).
 *
 * With a token, one onResponse hook counts every answer by method, route pattern and status
 * (the pattern, never the URL: the label set stays bounded whatever clients send). Call it before
 * the routes are registered.
 */
export function registerMetrics(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { token, metrics } = options;
  const expected = token === undefined ? undefined : digest(token);

  if (expected !== undefined) {
    app.addHook('onResponse', (request, reply, done) => {
      metrics.countRequest(request.method, request.routeOptions.url, reply.statusCode);
      done();
    });
  }

  app.get(
    '/metrics',
    // Not part of the API's OpenAPI document: an operator's endpoint in another format.
    { schema: { hide: true } },
    async (request, reply) => {
      if (expected === undefined) throw new AuthError('not_found');
      const presented = bearerToken(request.headers.authorization);
      if (presented === undefined) throw new AuthError('missing_token');
      if (!timingSafeEqual(digest(presented), expected)) throw new AuthError('invalid_token');
      return reply.type(metrics.contentType).send(await metrics.render());
    },
  );
}

import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../errors.ts';
import type { Throttle } from '../services/throttle.ts';

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store for @fastify/rate-limit that counts through the throttle service, so every instance
 * that shares the database shares the limit (the plugin's own stores are per process, or Redis).
 */
function throttleStore(throttle: Throttle) {
  const counterStore = {
    incr(key: string, callback: IncrCallback, timeWindow: number) {
      throttle.hit(`ip:${key}`, timeWindow).then(
        (hit) => callback(null, { current: hit.count, ttl: hit.retryAfterSeconds * 1000 }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    },
    child() {
      return counterStore;
    },
  };
  // The plugin instantiates the store with `new`; returning an object from a constructor is allowed.
  return function ThrottleRateLimitStore() {
    return counterStore;
  };
}

/**
 * Per-IP limits on the routes that cost a password hash or a token (register, login, refresh):
 * `perMinute` requests per minute per IP and route (OWASP Authentication Cheat Sheet). Routes opt
 * in with `config: { rateLimit: {} }`. With `perMinute` 0 nothing is registered and nothing counted.
 */
export async function registerIpRateLimit(
  app: FastifyInstance,
  options: { perMinute: number; throttle: Throttle },
): Promise<void> {
  if (options.perMinute === 0) return;
  await app.register(rateLimit, {
    global: false,
    max: options.perMinute,
    timeWindow: 60_000,
    store: throttleStore(options.throttle) as never,
    keyGenerator: (request) => `${request.routeOptions.url ?? ''}:${request.ip}`,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    addHeaders: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
      'retry-after': false,
    },
    errorResponseBuilder: (_request, context) =>
      new AuthError('rate_limited', {
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
}

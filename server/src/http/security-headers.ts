import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import { apiHelmetOptions, documentHelmetOptions } from './content-security-policy.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `api`: the short header set for JSON answers; otherwise the full set for documents. */
    securityHeaders?: 'api';
  }
}

type HeaderSet = Readonly<Record<string, string>>;

/** The header sets of every answer, computed once from helmet (the one source). */
export interface SecurityHeaderSets {
  /** The web app, the docs page, and anything else that is not JSON. */
  document: HeaderSet;
  /** JSON answers. */
  api: HeaderSet;
  /** JSON answers under `/auth` and `/admin`: the API set, never cached. */
  privateApi: HeaderSet;
}

/**
 * RFC 6749 §5.1 and RFC 9111 §5.2.2.5: answers that carry tokens must not be stored by any
 * cache; nothing under `/auth` or `/admin` should be, 404s included (v2 contract).
 */
const NO_STORE = { 'cache-control': 'no-store' } as const;

/**
 * Paths whose every answer is private: `/auth` and `/admin`, and everything below them, and
 * `/metrics` (an operator's view of the server, behind METRICS_TOKEN).
 */
export function isPrivateApiPath(url: string): boolean {
  return /^\/(auth|admin|metrics)(\/|\?|#|$)/.test(url);
}

/** Runs helmet's middleware once against a recording response and returns the headers it set. */
function recordHelmetHeaders(options: HelmetOptions): HeaderSet {
  const recorded = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      recorded.set(name.toLowerCase(), String(value));
    },
    removeHeader(name: string) {
      recorded.delete(name.toLowerCase());
    },
  };
  // helmet reads nothing of the request for these options; it only sets response headers.
  const request = {} as unknown as IncomingMessage;
  helmet(options)(request, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw new Error('helmet failed', { cause: error });
  });
  if (!recorded.has('content-security-policy')) {
    throw new Error('helmet set no Content-Security-Policy: security headers not computed');
  }
  return Object.freeze(Object.fromEntries(recorded));
}

/** Computes every header set once, for a server reached over https or not. */
export function createSecurityHeaderSets(https: boolean): SecurityHeaderSets {
  const api = recordHelmetHeaders(apiHelmetOptions(https));
  return {
    document: recordHelmetHeaders(documentHelmetOptions(https)),
    api,
    privateApi: Object.freeze({ ...api, ...NO_STORE }),
  };
}

/**
 * A Fastify plugin: helmet's security headers (OWASP HTTP Headers Cheat Sheet) on every answer,
 * computed once, and `Cache-Control: no-store` on every `/auth` and `/admin` answer. This hook is
 * the one home of both rules: answers given before any hook runs (router errors) use the same
 * `privateApi` set.
 *
 * The headers depend only on the options, so helmet's middleware runs once at start-up against a
 * recording response, and each reply gets the recorded set. @fastify/helmet instead rebuilds the
 * middleware on every request, parsing every CSP directive again: about half of the server's CPU
 * time per `/auth/status` request went there (docs/benchmarks.md). Same library, same options,
 * same headers. Answers under `/auth` and `/admin`, and routes with
 * `config: { securityHeaders: 'api' }`, get the API set; every other answer the document set.
 */
export const securityHeaders = fastifyPlugin<{ sets: SecurityHeaderSets }>(
  (app, { sets }, done) => {
    app.addHook('onRequest', (request, reply, next) => {
      if (isPrivateApiPath(request.url)) reply.headers(sets.privateApi);
      else if (request.routeOptions.config.securityHeaders === 'api') reply.headers(sets.api);
      else reply.headers(sets.document);
      next();
    });
    done();
  },
  { fastify: '5.x', name: 'latchkey-security-headers' },
);

/** Marks every route registered in this plugin's scope as a JSON API route. */
export function markApiRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, securityHeaders: 'api' };
  });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `api`: the short header set for JSON answers; otherwise the full set for documents. */
    securityHeaders?: 'api';
  }
}

/** Runs helmet's middleware once against a recording response and returns the headers it set. */
function recordHelmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const recorded = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      recorded.set(name.toLowerCase(), String(value));
    },
    removeHeader(name: string) {
      recorded.delete(name.toLowerCase());
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  if (!recorded.has('content-security-policy')) {
    throw new Error('helmet set no Content-Security-Policy: security headers not computed');
  }
  return Object.freeze(Object.fromEntries(recorded));
}

/**
 * The headers OWASP's REST Security Cheat Sheet ("Security headers") asks of JSON API answers:
 * nothing may be loaded or framed (`default-src 'none'; frame-ancestors 'none'`, X-Frame-Options
 * DENY), no MIME sniffing, no referrer, HSTS over HTTPS. The document-only headers (cross-origin
 * isolation, DNS prefetch, IE download options, Flash policies…) mean nothing for JSON and cost
 * about a quarter of a status check's time (docs/benchmarks.md), so API routes leave them out.
 */
export function apiHelmetOptions(https: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  };
}

/**
 * A Fastify plugin: helmet's security headers (OWASP HTTP Headers Cheat Sheet) on every answer,
 * computed once.
 *
 * The headers depend only on the options, so helmet's middleware runs once at start-up against a
 * recording response, and each reply gets the recorded set. @fastify/helmet instead rebuilds the
 * middleware on every request, parsing every CSP directive again: about half of the server's CPU
 * time per `/auth/status` request went there (docs/benchmarks.md). Same library, same options,
 * same headers. Routes with `config: { securityHeaders: 'api' }` get the `api` set, every other
 * answer (the web app, the docs page, 404s) the `document` set.
 */
export const securityHeaders = fastifyPlugin<{ document: HelmetOptions; api: HelmetOptions }>(
  async (app, options) => {
    const documentHeaders = recordHelmetHeaders(options.document);
    const apiHeaders = recordHelmetHeaders(options.api);
    app.addHook('onRequest', (request, reply, done) => {
      const api = request.routeOptions.config.securityHeaders === 'api';
      reply.headers(api ? apiHeaders : documentHeaders);
      done();
    });
  },
  { fastify: '5.x', name: 'latchkey-security-headers' },
);

/** Marks every route registered in this plugin's scope as a JSON API route. */
export function markApiRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, securityHeaders: 'api' };
  });
}

import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import { authRoutes } from './http/auth-routes.ts';
import { createAuthenticate } from './http/authenticate.ts';
import {
  handleClientError,
  registerErrorHandler,
  sendFailure,
  toAuthError,
} from './http/error-handler.ts';
import { registerIpRateLimit } from './http/ip-rate-limit.ts';
import { createOriginCheck } from './http/origin-check.ts';
import { publicRoutes } from './http/public-routes.ts';
import { createRefreshCookie } from './http/refresh-cookie.ts';
import { apiHelmetOptions, securityHeaders } from './http/security-headers.ts';
import { registerWebApp } from './http/web-app.ts';
import { type AccessTokens, createAccessTokens } from './services/access-tokens.ts';
import { createAccounts } from './services/accounts.ts';
import { type Clock, systemClock } from './services/clock.ts';
import { createHousekeeping } from './services/housekeeping.ts';
import { createLoginThrottle } from './services/login-throttle.ts';
import { createPasswordHasher } from './services/password-hasher.ts';
import { createRevocationList } from './services/revocation-list.ts';
import { createSessions } from './services/sessions.ts';
import type { Store } from './store/store.ts';

/** Security headers for answers given before any hook runs (a JSON body, nothing to load). */
const BARE_SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The JSON body limit of the contract. */
const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppDeps {
  config: Readonly<Config>;
  store: Store;
  clock?: Clock;
  /** Fastify's logger option; main.ts passes pino settings with redaction, tests pass false. */
  logger?: FastifyServerOptions['logger'];
}

export interface LatchkeyApp {
  app: FastifyInstance;
  accessTokens: AccessTokens;
}

/** Redacted wherever they could appear in a log line (OWASP Logging Cheat Sheet, "Data to exclude"). */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.new_password',
  '*.auth_token',
];

/**
 * Builds the whole server: plugins, routes and services, explicitly. It reads no environment and
 * opens no port; main.ts does that, tests call `app.inject()`.
 */
export async function buildApp(deps: AppDeps): Promise<LatchkeyApp> {
  const { config, store } = deps;
  const clock = deps.clock ?? systemClock;

  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Fastify accepts a hop count at run time; its types list only the other forms.
    trustProxy: config.trustProxy as boolean | string | string[],
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
    // Errors the router raises before any route runs (a bad percent-encoding, an overlong
    // parameter) get the same failure shape as everything else.
    // helmet's hooks have not run for these, so the essential headers are set here.
    frameworkErrors: (error, _request, reply) => {
      reply.headers(BARE_SECURITY_HEADERS);
      return sendFailure(reply, toAuthError(error));
    },
    // Clients cannot change types by accident: "123" stays a string, 123 stays a number.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });

  const accessTokens = createAccessTokens({
    store,
    clock,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
    clockToleranceSeconds: config.clockToleranceSeconds,
  });
  await accessTokens.loadKeys();
  const revocations = createRevocationList({
    store,
    clock,
    retentionMs: (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * 1000,
    pollMs: config.revocationPollMs,
    onPollError: (error) => app.log.warn({ err: error }, 'revocation poll failed'),
  });
  await revocations.start();
  const housekeeping = createHousekeeping({
    store,
    clock,
    accessTokens,
    onError: (error) => app.log.warn({ err: error }, 'housekeeping failed'),
  });
  housekeeping.start();
  app.addHook('onClose', async () => {
    revocations.stop();
    housekeeping.stop();
  });
  // While shutting down, answers close their connection, so keep-alive clients do not hold the
  // server open after their request in flight has been answered.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  const sessions = createSessions({
    store,
    clock,
    accessTokens,
    revocations,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
  });
  const accounts = createAccounts({
    store,
    clock,
    hasher: createPasswordHasher(config.argon2, config.hashConcurrency),
    loginThrottle: createLoginThrottle({
      store,
      clock,
      maxFailures: config.loginMaxFailures,
      windowSeconds: config.loginFailureWindowSeconds,
    }),
    sessions,
  });

  registerErrorHandler(app);
  // Only JSON bodies are read: no text/plain or form parser, so a cross-site form cannot post here.
  // An empty JSON body reads as {} (a bodiless refresh or logout with the JSON content type).
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || body.length === 0) done(null, {});
    else parseJson(request, body as string, done);
  });

  const https = config.publicUrl.startsWith('https:');
  await app.register(securityHeaders, {
    document: {
      // The web app and the docs page load only their own files.
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          formAction: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          // Only an HTTPS deployment may ask browsers to upgrade; on plain http it breaks.
          upgradeInsecureRequests: https ? [] : null,
        },
      },
      // HSTS only means something over HTTPS; a plain-http development server must not send it.
      strictTransportSecurity: https,
    },
    api: apiHelmetOptions(https),
  });
  await app.register(cors, {
    origin: (origin, callback) =>
      callback(null, origin !== undefined && config.corsOrigins.includes(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  await app.register(cookie);
  await registerIpRateLimit(app, { perMinute: config.rateLimitPerIp, store, clock });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey',
        version: '1.0.0',
        description: 'Token authentication API. The prose contract is docs/api.md.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          refreshCookie: { type: 'apiKey', in: 'cookie', name: 'latchkey_refresh' },
        },
      },
    },
  });
  // helmet's policy covers the docs page (all its files are local); swagger-ui's own would ask
  // plain-http servers to upgrade to https.
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get(
    '/openapi.json',
    { schema: { hide: true }, config: { securityHeaders: 'api' } },
    async () => app.swagger(),
  );

  await app.register(
    authRoutes({
      accounts,
      sessions,
      refreshCookie: createRefreshCookie({
        sameSite: config.cookieSameSite,
        secure: config.cookieSecure,
      }),
      authenticate: createAuthenticate(sessions),
      assertCookieRequestAllowed: createOriginCheck([config.publicUrl, ...config.corsOrigins]),
    }),
    { prefix: '/auth' },
  );
  await app.register(
    publicRoutes({
      accessTokens,
      pingDatabase: () => store.ping(),
      onHealthFailure: (error) =>
        app.log.warn({ err: error }, 'health check: database unavailable'),
    }),
  );
  await registerWebApp(app, config.webDir);

  return { app, accessTokens };
}

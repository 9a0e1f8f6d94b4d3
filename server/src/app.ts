import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
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
import { registerMetrics } from './http/metrics-route.ts';
import { acceptJsonBodiesOnly } from './http/json-body.ts';
import { registerOpenApi } from './http/openapi.ts';
import { createOriginCheck } from './http/origin-check.ts';
import { registerRefusedOriginWarning } from './http/refused-origin-warning.ts';
import { publicRoutes } from './http/public-routes.ts';
import { createDeviceCookie, createRefreshCookie } from './http/refresh-cookie.ts';
import { createSecurityHeaderSets, securityHeaders } from './http/security-headers.ts';
import { registerWebApp } from './http/web-app.ts';
import type { Clock } from './services/clock.ts';
import { createServices, type Services } from './services/create-services.ts';
import type { PasswordHasher } from './services/password-hasher.ts';
import type { Store } from './store/store.ts';

/** The JSON body limit of the contract. */
const BODY_LIMIT_BYTES = 16 * 1024;

export interface AppDeps {
  config: Readonly<Config>;
  store: Store;
  clock?: Clock;
  /** Tests pass a cheap hasher; the server uses argon2id with the configured parameters. */
  hasher?: PasswordHasher;
  /** Fastify's logger option; main.ts passes pino settings with redaction, tests pass false. */
  logger?: FastifyServerOptions['logger'];
}

export interface LatchkeyApp {
  app: FastifyInstance;
  services: Services;
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
 * TRUST_PROXY as Fastify's `trustProxy`. A hop count N trusts the N nearest hops (`1`: the proxy
 * that connected; the client is the last address it appended to X-Forwarded-For). Fastify 5.12.1
 * and later ignore a bare number (a hop count cannot check the peer), so it becomes the trust
 * function proxy-addr documents for it: `(address, hop) => hop < N`.
 */
function fastifyTrustProxy(
  trust: Config['trustProxy'],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust === false ? false : [...trust];
}

/**
 * Builds the whole server: the services (composed by createServices), then plugins and routes,
 * explicitly. It reads no environment and opens no port; main.ts does that, tests call
 * `app.inject()`. Closing the app stops the services' background work; the store is the caller's.
 */
export async function buildApp(deps: AppDeps): Promise<LatchkeyApp> {
  const { config } = deps;
  const headerSets = createSecurityHeaderSets(config.publicUrl.startsWith('https:'));

  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Slow clients are cut off (v2 contract): the whole request within REQUEST_TIMEOUT_MS, else
    // 408 and the connection closes; idle keep-alive connections close after
    // KEEP_ALIVE_TIMEOUT_MS. Node checks pending requests every connectionsCheckingInterval
    // (30 s by default), so it is tied to the timeout; headersTimeout may not exceed it.
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(config.requestTimeoutMs / 4)),
    },
    trustProxy: fastifyTrustProxy(config.trustProxy),
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
    // Errors the router raises before any route or hook runs (a bad percent-encoding, an
    // overlong parameter) get the same failure shape, and the headers every API answer gets.
    frameworkErrors: (error, _request, reply) => {
      reply.headers(headerSets.privateApi);
      void sendFailure(reply, toAuthError(error));
    },
    // Clients cannot change types by accident: "123" stays a string, 123 stays a number.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });

  const services = createServices({
    config,
    store: deps.store,
    clock: deps.clock,
    hasher: deps.hasher,
    onBackgroundError: (error, task) => app.log.warn({ err: error }, `${task} failed`),
    // One structured line per security event, at info (security-events.ts: never a secret).
    recordSecurityEvent: (event) =>
      app.log.info(
        {
          security_event: event.type,
          user_id: event.userId,
          session_id: event.sessionId,
          ip: event.ip,
          reason: event.reason,
        },
        `security event: ${event.type}`,
      ),
    onMailSent: ({ id, attempts, outcome }) =>
      app.log.info({ mail_id: id, attempts }, `mail ${id} ${outcome}`),
    onMailFailed: ({ id, attempts, error, gaveUp }) =>
      app.log[gaveUp ? 'error' : 'warn'](
        { mail_id: id, attempts, err: error },
        gaveUp
          ? `mail ${id} given up after ${attempts} attempts`
          : `mail ${id} not delivered (attempt ${attempts}); retrying later`,
      ),
    onUnconfirmedRevocation: (instances, waitedMs) =>
      app.log.warn(
        { event: 'revocation_unconfirmed', instances, waitedMs },
        `revocation not confirmed by ${instances.length} instance(s) within ${waitedMs} ms; answered anyway, as they refuse tokens by now (fail closed)`,
      ),
  });
  await services.start();
  app.log.info(
    { mail: services.mailSender.description },
    config.mail.smtpUrl === undefined
      ? `mail: no SMTP_URL set, so mails (verification and reset links) are written as ${services.mailSender.description}`
      : `mail: delivered through ${services.mailSender.description}`,
  );
  app.addHook('onClose', async () => services.stop());
  // While shutting down, answers close their connection, so keep-alive clients do not hold the
  // server open after their request in flight has been answered.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  registerErrorHandler(app);
  acceptJsonBodiesOnly(app);
  await app.register(securityHeaders, { sets: headerSets });
  registerRefusedOriginWarning(app, config);
  await app.register(cors, {
    origin: (origin, callback) =>
      callback(null, origin !== undefined && config.corsOrigins.includes(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  await app.register(cookie);
  await registerIpRateLimit(app, { perMinute: config.rateLimitPerIp, throttle: services.throttle });
  registerMetrics(app, { token: config.metricsToken, metrics: services.metrics });
  await registerOpenApi(app, { publicUrl: config.publicUrl });

  const cookieOptions = { sameSite: config.cookieSameSite, secure: config.cookieSecure };
  await app.register(
    authRoutes({
      accounts: services.accounts,
      emailFlows: services.emailFlows,
      admin: services.admin,
      secondFactors: services.secondFactors,
      sessions: services.sessions,
      refreshCookie: createRefreshCookie(cookieOptions),
      deviceCookie: createDeviceCookie(cookieOptions),
      authenticate: createAuthenticate(services.sessions),
      assertCookieRequestAllowed: createOriginCheck([config.publicUrl, ...config.corsOrigins]),
    }),
  );
  await app.register(
    publicRoutes({
      accessTokens: services.accessTokens,
      pingDatabase: () => services.pingDatabase(),
      onHealthFailure: (error) =>
        app.log.warn({ err: error }, 'health check: database unavailable'),
    }),
  );
  await registerWebApp(app, config.webDir, headerSets.document);

  return { app, services };
}

import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { Store } from '../store/store.ts';
import { type AccessTokens, createAccessTokens } from './access-tokens.ts';
import { type Accounts, createAccounts } from './accounts.ts';
import { type Admin, createAdmin } from './admin.ts';
import { type Clock, systemClock } from './clock.ts';
import { createEmailFlows, type EmailFlows } from './email-flows.ts';
import { createEmailLinks } from './email-links.ts';
import { createHousekeeping, type Housekeeping } from './housekeeping.ts';
import { createKeySealer } from './key-sealer.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createMailOutbox } from './mail-outbox.ts';
import { renderMail } from './mail-templates.ts';
import { createMailSender, type MailSender, type MailSenderOptions } from './mail-sender.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createFileTransport, createSmtpTransport } from './mail-transport.ts';
import { createPasswordHasher, type PasswordHasher } from './password-hasher.ts';
import { createRevocationList, type RevocationList } from './revocation-list.ts';
import { createSessions, type Sessions } from './sessions.ts';
import { ignoreSecurityEvents, type RecordSecurityEvent } from './security-events.ts';
import { createSecondFactors, type SecondFactors } from './second-factors.ts';
import { createThrottle, type Throttle } from './throttle.ts';

export interface ServicesDeps {
  config: Readonly<Config>;
  store: Store;
  /** Default: the system clock. Tests pass one they move by hand. */
  clock?: Clock;
  /**
   * Default: argon2id with the configured parameters. Tests pass a cheaper one (one suite keeps
   * the real parameters); nothing else should.
   */
  hasher?: PasswordHasher;
  /** Where failures of background work (revocation polls, housekeeping, mail) are reported. */
  onBackgroundError?: (error: unknown, task: BackgroundTask) => void;
  /** A mail went out (or was written to a file). */
  onMailSent?: MailSenderOptions['onSent'];
  /** A delivery attempt failed; `gaveUp` after the last retry. */
  onMailFailed?: MailSenderOptions['onFailure'];
  /** Where security events go (app.ts: one structured log line each). Default: nowhere. */
  recordSecurityEvent?: RecordSecurityEvent;
  /** A revocation was answered without the confirmation of these instances (gone or cut off). */
  onUnconfirmedRevocation?: (instanceIds: string[], waitedMs: number) => void;
}

export type BackgroundTask = 'revocation sync' | 'housekeeping' | 'mail' | 'password reset';

/** Every service of the server, composed once. */
export interface Services {
  accounts: Accounts;
  emailFlows: EmailFlows;
  mailSender: MailSender;
  admin: Admin;
  secondFactors: SecondFactors;
  sessions: Sessions;
  accessTokens: AccessTokens;
  revocations: RevocationList;
  housekeeping: Housekeeping;
  throttle: Throttle;
  /** Counters and histograms fed by the services; served at GET /metrics with METRICS_TOKEN. */
  metrics: Metrics;
  /** Resolves when the database answers (the health check). */
  pingDatabase(): Promise<void>;
  /**
   * Loads the signing keys and recent revocations, registers the instance, then starts the
   * background work: revocation sync and housekeeping. A server calls it before it listens; the
   * CLI does not (it never checks a token, and its revocations still wait for every server).
   */
  start(): Promise<void>;
  /** Stops the background work and deregisters; the store stays open (its owner closes it). */
  stop(): Promise<void>;
}

/**
 * The one place services are composed: the app, the CLI and the tests all build them here, so
 * they cannot be wired differently. Services get what they need as arguments (style rule 8);
 * none reads the environment.
 */
export function createServices(deps: ServicesDeps): Services {
  const { config, store } = deps;
  const clock = deps.clock ?? systemClock;
  const report = deps.onBackgroundError ?? (() => undefined);
  const metrics = createMetrics({ processMetrics: config.metricsToken !== undefined });
  // The one sink of security events also feeds the metrics: logins, reuses, revocations.
  const logEvent = deps.recordSecurityEvent ?? ignoreSecurityEvents;
  const recordEvent: RecordSecurityEvent = (event) => {
    metrics.countSecurityEvent(event);
    logEvent(event);
  };

  const sealer = createKeySealer(config.keyEncryptionKey);
  const accessTokens = createAccessTokens({
    store,
    clock,
    sealer,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    ttlSeconds: config.accessTokenTtlSeconds,
    clockToleranceSeconds: config.clockToleranceSeconds,
    cacheSize: config.accessTokenCacheSize,
  });
  metrics.watchTokenCache(accessTokens);
  const revocations = createRevocationList({
    store,
    clock,
    retentionMs: (config.accessTokenTtlSeconds + config.clockToleranceSeconds) * 1000,
    pollMs: config.revocationPollMs,
    failClosedMs: config.revocationFailClosedMs,
    onPollError: (error) => report(error, 'revocation sync'),
    onUnconfirmed: deps.onUnconfirmedRevocation,
    onPropagated: (waitedMs, confirmed) =>
      metrics.observeRevocationPropagation(waitedMs, confirmed),
  });
  const housekeeping = createHousekeeping({
    store,
    clock,
    accessTokens,
    auditRetentionMs: config.auditRetentionDays * 86_400_000,
    onError: (error) => report(error, 'housekeeping'),
  });
  const throttle = createThrottle({ store, clock });
  const hasher = metrics.timeHasher(
    deps.hasher ?? createPasswordHasher(config.argon2, config.hashConcurrency, config.hashQueueMax),
  );
  const loginThrottle = createLoginThrottle({
    throttle,
    maxFailures: config.loginMaxFailures,
    windowSeconds: config.loginFailureWindowSeconds,
  });
  const outbox = createMailOutbox({ sealer, clock });
  const links = createEmailLinks({ mail: config.mail, clock, outbox });
  const mailSender = createMailSender({
    store,
    clock,
    transport:
      config.mail.smtpUrl === undefined
        ? createFileTransport(join(config.dataDir, 'mail'))
        : createSmtpTransport(config.mail.smtpUrl),
    outbox,
    from: config.mail.from,
    holder: revocations.instanceId,
    onSent: (info) => {
      metrics.countMailSent();
      deps.onMailSent?.(info);
    },
    onFailure: (info) => {
      metrics.countMailFailure(info.gaveUp);
      deps.onMailFailed?.(info);
    },
    onError: (error) => report(error, 'mail'),
  });
  const onMailQueued = () => mailSender.kick();
  const uncountedSessions = createSessions({
    store,
    clock,
    accessTokens,
    revocations,
    refreshTokenTtlSeconds: config.refreshTokenTtlSeconds,
    sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
    refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
    maxSessionsPerUser: config.maxSessionsPerUser,
    recordEvent,
  });
  const sessions = metrics.countRefreshes(uncountedSessions);
  /** A notice to the account's address (outbox, delivered in the background). */
  const notify = async (userId: string, change: string) => {
    const user = await store.findUserById(userId);
    if (user === undefined) return;
    await store.enqueueMails([
      outbox.compose(user.email, renderMail({ kind: 'security-change-notice', change })),
    ]);
    onMailQueued();
  };
  const secondFactors = createSecondFactors({
    notify,
    store,
    clock,
    sealer,
    hasher,
    throttle,
    loginThrottle,
    recordEvent,
    issuer: 'Latchkey',
  });
  const accounts = createAccounts({
    secondFactors,
    store,
    clock,
    hasher,
    loginThrottle,
    sessions,
    recordEvent,
    links,
    requireVerification: config.mail.requireVerification,
    onMailQueued,
  });
  const emailFlows = createEmailFlows({
    secondFactors,
    store,
    clock,
    hasher,
    throttle,
    loginThrottle,
    revocations,
    links,
    outbox,
    mail: config.mail,
    recordEvent,
    onMailQueued,
    onUserChanged: (userId) => accounts.forgetUser(userId),
    onBackgroundError: (error) => report(error, 'password reset'),
  });

  const admin = createAdmin({
    notify,
    store,
    clock,
    hasher,
    sessions,
    revocations,
    recordEvent,
    onUserChanged: (userId) => accounts.forgetUser(userId),
  });

  return {
    accounts,
    admin,
    secondFactors,
    emailFlows,
    mailSender,
    sessions,
    accessTokens,
    revocations,
    housekeeping,
    throttle,
    metrics,
    pingDatabase: () => store.ping(),
    async start() {
      await accessTokens.loadKeys();
      await revocations.start();
      housekeeping.start();
      mailSender.start();
    },
    async stop() {
      housekeeping.stop();
      await emailFlows.settle();
      await mailSender.stop();
      await revocations.stop();
    },
  };
}

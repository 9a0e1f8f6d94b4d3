import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AuthError } from '../errors.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { SecurityEvent } from './security-events.ts';
import type { Sessions } from './sessions.ts';

/**
 * The server's metrics, in Prometheus text format (v2 contract, "Metrics"), through prom-client:
 * the only module that imports it. Every name starts with `latchkey_`; the list, with where each
 * number comes from, is docs/api.md "Metrics" and docs/decisions/0011-metrics.md.
 *
 * Labels stay bounded, so a client can never grow the series count (Prometheus, "Instrumentation",
 * "Do not overuse labels"): routes are the route pattern (`/auth/sessions/:id`, never the URL),
 * or `unmatched`; reasons, types and outcomes come from the code, never from a request. No label
 * ever holds a user id, an email, an IP or a token.
 */
export interface Metrics {
  /** The Content-Type of `render()`: `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  /** Every metric in the text format. */
  render(): Promise<string>;
  /** One answered request; a 429 is also a rate-limit refusal. `route`: the route pattern. */
  countRequest(method: string, route: string | undefined, statusCode: number): void;
  /** The security event sink (security-events.ts) feeds logins, reuses and revocations. */
  countSecurityEvent(event: SecurityEvent): void;
  countMailSent(): void;
  countMailFailure(gaveUp: boolean): void;
  /** revocation-list.ts `onPropagated`. */
  observeRevocationPropagation(waitedMs: number, confirmed: boolean): void;
  /** The same hasher, timed, its running and waiting hashes reported at scrape time. */
  timeHasher(hasher: PasswordHasher): PasswordHasher;
  /** The same sessions, with every refresh counted by outcome. */
  countRefreshes(sessions: Sessions): Sessions;
  /** Reports the verified-token cache's look-ups at scrape time (issue 14). */
  watchTokenCache(accessTokens: Pick<AccessTokens, 'cacheStats'>): void;
}

export interface MetricsOptions {
  /**
   * Also prom-client's process and Node.js metrics (CPU, memory, event-loop delay, GC). They
   * install a GC observer and an event-loop monitor for the life of the process, so only a
   * server that serves /metrics asks for them.
   */
  processMetrics: boolean;
}

/** The route label of requests that matched no route: one series, whatever the URL. */
const UNMATCHED_ROUTE = 'unmatched';

/** argon2id at the OWASP floor takes tens of ms; a full queue waits seconds. */
const HASH_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * PostgreSQL notifications confirm in milliseconds, SQLite's 20 ms look-ups in tens of them; the
 * wait ends at REVOCATION_FAIL_CLOSED_MS (5 s by default).
 */
const PROPAGATION_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

type RefreshOutcome = 'succeeded' | 'refused' | 'failed';

/**
 * Events that end a session, each one revocation: `session_ended`, and `logged_out` where a
 * logout is an event of its own (the audit log's name for it, reason `signed_out`).
 */
const SESSION_END_EVENTS: ReadonlySet<string> = new Set(['session_ended', 'logged_out']);

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const rateLimited = new Counter({
    name: 'latchkey_rate_limit_refusals_total',
    help: 'Requests refused with 429 (per-IP limit, per-email login limit, mail resend interval), by route.',
    labelNames: ['route'],
    registers,
  });
  const logins = new Counter({
    name: 'latchkey_logins_total',
    help: 'Login outcomes: succeeded, or failed with the reason of the security event.',
    labelNames: ['outcome', 'reason'],
    registers,
  });
  const refreshes = new Counter({
    name: 'latchkey_refreshes_total',
    help: 'Refresh-token exchanges: succeeded, refused (token not usable, or reused), failed (error).',
    labelNames: ['outcome'],
    registers,
  });
  const reuses = new Counter({
    name: 'latchkey_refresh_token_reuses_total',
    help: 'Superseded refresh tokens used after the grace window: theft detected, session ended.',
    registers,
  });
  const revocations = new Counter({
    name: 'latchkey_revocations_total',
    help: 'Sessions ended, by reason (signed_out, refresh_token_reuse, password_changed, ...).',
    labelNames: ['reason'],
    registers,
  });
  const securityEvents = new Counter({
    name: 'latchkey_security_events_total',
    help: 'Every security event, by type (security-events.ts).',
    labelNames: ['type'],
    registers,
  });
  const mailsSent = new Counter({
    name: 'latchkey_mails_sent_total',
    help: 'Mails delivered (to SMTP, or written as files without SMTP_URL).',
    registers,
  });
  const mailFailures = new Counter({
    name: 'latchkey_mail_failures_total',
    help: 'Failed delivery attempts; gave_up="true" for the last attempt of a mail.',
    labelNames: ['gave_up'],
    registers,
  });
  // Histograms without labels: one per quantity, so each is one set of buckets to query.
  const propagation = new Histogram({
    name: 'latchkey_revocation_propagation_seconds',
    help: 'From a revocation commit until every other live instance applied it, or the wait ended unconfirmed.',
    buckets: PROPAGATION_BUCKETS_SECONDS,
    registers,
  });
  const unconfirmed = new Counter({
    name: 'latchkey_revocations_unconfirmed_total',
    help: 'Revocations answered after REVOCATION_FAIL_CLOSED_MS without every instance confirming.',
    registers,
  });
  const hashSeconds = {
    hash: new Histogram({
      name: 'latchkey_password_hash_seconds',
      help: 'Time to hash a new password (register, change, reset), its wait in the queue included.',
      buckets: HASH_BUCKETS_SECONDS,
      registers,
    }),
    verify: new Histogram({
      name: 'latchkey_password_verify_seconds',
      help: 'Time to check a password (login, confirmations), its wait in the queue included.',
      buckets: HASH_BUCKETS_SECONDS,
      registers,
    }),
  };

  let hashLoad: PasswordHasher['load'] = () => ({ running: 0, waiting: 0 });
  new Gauge({
    name: 'latchkey_password_hash_queue_length',
    help: 'Password hashes waiting for a free lane (at most HASH_QUEUE_MAX; past it, 503).',
    registers,
    collect() {
      this.set(hashLoad().waiting);
    },
  });
  new Gauge({
    name: 'latchkey_password_hashes_running',
    help: 'Password hashes running now (at most HASH_CONCURRENCY).',
    registers,
    collect() {
      this.set(hashLoad().running);
    },
  });

  let tokenCache: AccessTokens['cacheStats'] = () => ({ hits: 0, misses: 0, entries: 0 });
  new Counter({
    name: 'latchkey_access_token_cache_lookups_total',
    help: 'Access-token checks by verified-token cache result (hit: no signature check).',
    labelNames: ['result'],
    registers,
    collect() {
      const { hits, misses } = tokenCache();
      this.reset();
      this.inc({ result: 'hit' }, hits);
      this.inc({ result: 'miss' }, misses);
    },
  });
  new Gauge({
    name: 'latchkey_access_token_cache_entries',
    help: 'Verified tokens held in the cache.',
    registers,
    collect() {
      this.set(tokenCache().entries);
    },
  });

  // One child per (method, route, status), found by one string key: the hot path skips
  // prom-client's label hashing and validation after a series' first request.
  const requestSeries = new Map<string, Counter.Internal>();

  const time = async <T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> => {
    const end = hashSeconds[operation].startTimer();
    try {
      return await work();
    } finally {
      end();
    }
  };

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),

    countRequest(method, route, statusCode) {
      const routeLabel = route ?? UNMATCHED_ROUTE;
      const key = `${method} ${routeLabel} ${statusCode}`;
      let series = requestSeries.get(key);
      if (series === undefined) {
        series = requests.labels({ method, route: routeLabel, status: statusCode });
        requestSeries.set(key, series);
      }
      series.inc();
      if (statusCode === 429) rateLimited.inc({ route: routeLabel });
    },

    countSecurityEvent(event) {
      securityEvents.inc({ type: event.type });
      if (SESSION_END_EVENTS.has(event.type)) {
        revocations.inc({ reason: event.reason ?? 'unknown' });
        return;
      }
      switch (event.type) {
        case 'login_succeeded':
          logins.inc({ outcome: 'succeeded' });
          break;
        case 'login_failed':
          logins.inc({ outcome: 'failed', reason: event.reason ?? 'unknown' });
          break;
        case 'refresh_token_reused':
          reuses.inc();
          break;
        default:
          break;
      }
    },

    countMailSent: () => mailsSent.inc(),
    countMailFailure: (gaveUp) => mailFailures.inc({ gave_up: String(gaveUp) }),

    observeRevocationPropagation(waitedMs, confirmed) {
      propagation.observe(waitedMs / 1000);
      if (!confirmed) unconfirmed.inc();
    },

    timeHasher(hasher) {
      hashLoad = () => hasher.load();
      return {
        hash: (password) => time('hash', () => hasher.hash(password)),
        verify: (phc, password) => time('verify', () => hasher.verify(phc, password)),
        // The same label as a real check: the metric must not tell unknown accounts apart.
        verifyDummy: (password) => time('verify', () => hasher.verifyDummy(password)),
        needsRehash: (phc) => hasher.needsRehash(phc),
        load: () => hasher.load(),
      };
    },

    countRefreshes(sessions) {
      const count = (outcome: RefreshOutcome) => refreshes.inc({ outcome });
      return {
        ...sessions,
        async refresh(refreshToken, client) {
          try {
            const issued = await sessions.refresh(refreshToken, client);
            count('succeeded');
            return issued;
          } catch (error) {
            count(isRefusal(error) ? 'refused' : 'failed');
            throw error;
          }
        },
      };
    },

    watchTokenCache(accessTokens) {
      tokenCache = () => accessTokens.cacheStats();
    },
  };
}

/** A refresh the client caused to fail (its token is not usable), not an outage. */
function isRefusal(error: unknown): boolean {
  return error instanceof AuthError && error.code === 'invalid_refresh_token';
}

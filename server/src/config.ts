/**
 * Reads and validates every setting once, at the edge. Every problem is reported at once, in
 * plain words, so an operator fixes a bad `.env` in one go. Names, bounds and defaults come from
 * the table in config-variables.ts (which `.env.example` and the README are generated from);
 * this file turns its values into a Config and derives what depends on several of them. Nothing
 * is keyed on NODE_ENV.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONFIG_VARIABLES,
  type ConfigValues,
  type ConfigVariable,
  type Parsed,
} from './config-variables.ts';

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist/web/browser/', import.meta.url));

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface Config {
  port: number;
  host: string;
  /** Origin the server is reached at, no trailing slash; the default token issuer. */
  publicUrl: string;
  /** Unset: embedded SQLite under dataDir. */
  databaseUrl: string | undefined;
  /** AES-256 key for the private signing keys at rest; unset: stored plain (with a warning). */
  keyEncryptionKey: Buffer | undefined;
  dataDir: string;
  /** Directory with the built web app (index.html); served at `/` when it exists. */
  webDir: string;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  sessionMaxAgeSeconds: number;
  refreshReuseGraceSeconds: number;
  clockToleranceSeconds: number;
  accessTokenCacheSize: number;
  cookieSameSite: SameSite;
  cookieSecure: boolean;
  corsOrigins: readonly string[];
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  rateLimitPerIp: number;
  /**
   * Who may name the client IP in X-Forwarded-For: nobody (false); a hop count (1: the client is
   * the last address the one proxy appended); or the proxies' addresses/CIDRs. Never `true`.
   */
  trustProxy: false | number | readonly string[];
  argon2: { memoryKib: number; iterations: number; parallelism: number };
  /** How many password hashes may run at once (the rest wait in line, off the threadpool). */
  hashConcurrency: number;
  hashThreadNice: number;
  /** A sign-in past this many live sessions ends the least recently used. */
  maxSessionsPerUser: number;
  /** A request must arrive whole within this; then 408. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections close after this. */
  keepAliveTimeoutMs: number;
  /** Hashes that may wait for a free lane; past it a password check answers 503 at once. */
  hashQueueMax: number;
  revocationPollMs: number;
  /** No sync for this long: refuse access tokens; also the longest a revocation waits. */
  revocationFailClosedMs: number;
  logLevel: string;
  /** The Bearer token GET /metrics asks for; unset: /metrics answers 404. A secret. */
  metricsToken: string | undefined;
  /** Longest a query may take: SQLite's busy timeout, PostgreSQL's statement_timeout. */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL: longest wait for a connection (a new one, or a free one from the pool). */
  databaseConnectTimeoutMs: number;
  /** PostgreSQL: connections per instance. */
  databasePoolSize: number;
  mail: MailConfig;
  /** Audit events older than this are deleted by housekeeping. */
  auditRetentionDays: number;
}

export interface MailConfig {
  /** Unset: .eml files under `dataDir/mail/`. */
  smtpUrl: string | undefined;
  from: string;
  /** Origin of the web app the links point to. */
  appUrl: string;
  verifyTtlSeconds: number;
  resetTtlSeconds: number;
  changeTtlSeconds: number;
  resendIntervalSeconds: number;
  requireVerification: boolean;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Variables that were renamed: naming the new one beats ignoring the old, which would silently
 * drop an operator's setting.
 */
const RENAMED_VARIABLES: Readonly<Record<string, string>> = {
  DATABASE_TIMEOUT_MS:
    'DATABASE_TIMEOUT_MS is now DATABASE_STATEMENT_TIMEOUT_MS ' +
    '(and DATABASE_CONNECT_TIMEOUT_MS for PostgreSQL connections).',
};

/** Parses `env` into a frozen Config, or throws one ConfigError listing every problem. */
export function loadConfig(env: Env, cwd: string = process.cwd()): Readonly<Config> {
  const problems: string[] = [];
  const isSet = (name: string) => (env[name]?.trim() ?? '') !== '';
  for (const [name, problem] of Object.entries(RENAMED_VARIABLES)) {
    if (isSet(name)) problems.push(problem);
  }
  const v = readVariables(env, problems);

  // A bare IPv6 host needs brackets in a URL (RFC 3986 §3.2.2).
  const hostInUrl = v.HOST.includes(':') && !v.HOST.startsWith('[') ? `[${v.HOST}]` : v.HOST;
  const publicUrl = v.PUBLIC_URL ?? `http://${hostInUrl}:${v.PORT}`;

  const config: Config = {
    port: v.PORT,
    host: v.HOST,
    publicUrl,
    databaseUrl: v.DATABASE_URL,
    keyEncryptionKey: v.KEY_ENCRYPTION_KEY,
    dataDir: resolve(cwd, v.DATA_DIR),
    webDir: resolve(cwd, v.WEB_DIR ?? DEFAULT_WEB_DIR),
    jwtIssuer: v.JWT_ISSUER ?? publicUrl,
    jwtAudience: v.JWT_AUDIENCE,
    accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL,
    refreshTokenTtlSeconds: v.REFRESH_TOKEN_TTL,
    sessionMaxAgeSeconds: v.SESSION_MAX_AGE,
    refreshReuseGraceSeconds: v.REFRESH_REUSE_GRACE,
    clockToleranceSeconds: v.JWT_CLOCK_TOLERANCE,
    accessTokenCacheSize: v.ACCESS_TOKEN_CACHE_SIZE,
    cookieSameSite: v.COOKIE_SAMESITE,
    // Browsers ignore a SameSite=None cookie that is not Secure (RFC 6265bis, storage model).
    cookieSecure: v.COOKIE_SAMESITE === 'None' ? true : v.COOKIE_SECURE,
    corsOrigins: Object.freeze([...(v.CORS_ORIGINS ?? [])]),
    loginMaxFailures: v.LOGIN_MAX_FAILURES,
    loginFailureWindowSeconds: v.LOGIN_FAILURE_WINDOW,
    rateLimitPerIp: v.RATE_LIMIT_PER_IP,
    trustProxy: freezeIfList(v.TRUST_PROXY),
    // OWASP Password Storage Cheat Sheet, Argon2id: the floor is m=19 MiB, t=2, p=1 (the
    // table's lower bounds).
    argon2: Object.freeze({
      memoryKib: v.ARGON2_MEMORY_KIB,
      iterations: v.ARGON2_ITERATIONS,
      parallelism: v.ARGON2_PARALLELISM,
    }),
    hashConcurrency: v.HASH_CONCURRENCY,
    hashThreadNice: v.HASH_THREAD_NICE,
    maxSessionsPerUser: v.MAX_SESSIONS_PER_USER,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: v.KEEP_ALIVE_TIMEOUT_MS,
    hashQueueMax: v.HASH_QUEUE_MAX,
    revocationPollMs: v.REVOCATION_POLL_MS,
    revocationFailClosedMs: v.REVOCATION_FAIL_CLOSED_MS,
    logLevel: v.LOG_LEVEL,
    metricsToken: v.METRICS_TOKEN,
    databaseStatementTimeoutMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
    databaseConnectTimeoutMs: v.DATABASE_CONNECT_TIMEOUT_MS,
    databasePoolSize: v.DATABASE_POOL_SIZE,
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    mail: Object.freeze({
      smtpUrl: v.SMTP_URL,
      from: v.MAIL_FROM ?? `Latchkey <no-reply@${hostOf(publicUrl)}>`,
      appUrl: v.PUBLIC_APP_URL ?? publicUrl,
      verifyTtlSeconds: v.EMAIL_VERIFY_TTL,
      resetTtlSeconds: v.PASSWORD_RESET_TTL,
      changeTtlSeconds: v.EMAIL_CHANGE_TTL,
      resendIntervalSeconds: v.EMAIL_RESEND_INTERVAL,
      requireVerification: v.REQUIRE_EMAIL_VERIFICATION,
    }),
  };
  // A healthy instance syncs every poll; a few missed polls must not make it refuse tokens.
  if (v.REVOCATION_FAIL_CLOSED_MS < 4 * v.REVOCATION_POLL_MS) {
    problems.push(
      `REVOCATION_FAIL_CLOSED_MS (${v.REVOCATION_FAIL_CLOSED_MS}) must be at least 4 times REVOCATION_POLL_MS (${v.REVOCATION_POLL_MS}).`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * Parses every variable of the table. A blank value counts as unset. A bad value adds its
 * problems and stands in as the default, so the derivations above still run and every other
 * problem is found too; loadConfig throws before that value is used.
 */
function readVariables(env: Env, problems: string[]): ConfigValues {
  const values: Record<string, unknown> = {};
  const variables = Object.entries(CONFIG_VARIABLES) as [string, ConfigVariable][];
  for (const [name, variable] of variables) {
    const raw = env[name]?.trim();
    const parsed = raw === undefined || raw === '' ? undefined : variable.parser.read(raw, name);
    if (parsed !== undefined && !parsed.ok) problems.push(...parsed.problems);
    values[name] = parsed?.ok ? parsed.value : parseDefault(name, variable);
  }
  return values as ConfigValues;
}

/** The parsed default of a variable; undefined for one unset by default. */
function parseDefault(name: string, variable: ConfigVariable): unknown {
  if (variable.default === undefined) return undefined;
  const parsed: Parsed<unknown> = variable.parser.read(variable.default, name);
  // The table's own defaults are tested; a bad one is a bug, not an operator's mistake.
  if (!parsed.ok)
    throw new Error(`The default of ${name} is invalid: ${parsed.problems.join(' ')}`);
  return parsed.value;
}

/** The host of a URL; the text itself when it is none (a bad HOST is reported elsewhere). */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** The list form of a value frozen like the rest of the Config; other values as they are. */
function freezeIfList<T>(value: T): T {
  return Array.isArray(value) ? (Object.freeze([...value]) as T) : value;
}

/**
 * Reads and validates every setting once, at the edge. Every problem is reported at once, in
 * plain words, so an operator fixes a bad `.env` in one go. Defaults follow docs/api.md and
 * `.env.example`; nothing is keyed on NODE_ENV.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/dist/web/browser/', import.meta.url));

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface Config {
  port: number;
  host: string;
  /** Origin the server is reached at, no trailing slash; the default token issuer. */
  publicUrl: string;
  /** Unset: embedded SQLite under dataDir. */
  databaseUrl: string | undefined;
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
  cookieSameSite: SameSite;
  cookieSecure: boolean;
  corsOrigins: readonly string[];
  loginMaxFailures: number;
  loginFailureWindowSeconds: number;
  rateLimitPerIp: number;
  /** Passed to Fastify's trustProxy: false, true, a hop count, or a list of addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  argon2: { memoryKib: number; iterations: number; parallelism: number };
  /** How many password hashes may run at once (the rest wait in line, off the threadpool). */
  hashConcurrency: number;
  revocationPollMs: number;
  logLevel: string;
  /** Longest a query may take: SQLite's busy timeout, PostgreSQL's statement_timeout. */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL: longest wait for a connection (a new one, or a free one from the pool). */
  databaseConnectTimeoutMs: number;
  /** PostgreSQL: connections per instance. */
  databasePoolSize: number;
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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Parses `env` into a frozen Config, or throws one ConfigError listing every problem. */
export function loadConfig(env: Env, cwd: string = process.cwd()): Readonly<Config> {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}").`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = value(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${value(name)}").`);
    return fallback;
  };
  const origin = (name: string, raw: string): string | undefined => {
    try {
      const url = new URL(raw);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
      if (url.pathname !== '/' || url.search || url.hash || url.username) throw new Error('path');
      return url.origin;
    } catch {
      problems.push(
        `${name} must be an http(s) origin such as https://app.example.com (got "${raw}").`,
      );
      return undefined;
    }
  };

  const port = int('PORT', 3000, 0, 65535);
  const host = value('HOST') ?? '127.0.0.1';
  const hostInUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const rawPublicUrl = value('PUBLIC_URL');
  let publicUrl = `http://${hostInUrl}:${port}`;
  if (rawPublicUrl !== undefined) {
    if (rawPublicUrl.endsWith('/')) {
      problems.push(`PUBLIC_URL must not end with a slash (got "${rawPublicUrl}").`);
    } else {
      publicUrl = origin('PUBLIC_URL', rawPublicUrl) ?? publicUrl;
    }
  }

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(
      'DATABASE_URL must be a postgres:// URL, or unset for the embedded SQLite database.',
    );
  }

  if (value('DATABASE_TIMEOUT_MS') !== undefined) {
    // Renamed: ignoring it would silently drop an operator's timeout.
    problems.push(
      'DATABASE_TIMEOUT_MS is now DATABASE_STATEMENT_TIMEOUT_MS (and DATABASE_CONNECT_TIMEOUT_MS for PostgreSQL connections).',
    );
  }

  const accessTokenTtlSeconds = int('ACCESS_TOKEN_TTL', 900, 1, 86_400);
  const refreshTokenTtlSeconds = int('REFRESH_TOKEN_TTL', 14 * 86_400, 1, 400 * 86_400);
  const sessionMaxAgeSeconds = int('SESSION_MAX_AGE', 30 * 86_400, 1, 400 * 86_400);
  const refreshReuseGraceSeconds = int('REFRESH_REUSE_GRACE', 10, 0, 300);

  const sameSiteRaw = (value('COOKIE_SAMESITE') ?? 'Strict').toLowerCase();
  const sameSiteByName: Record<string, SameSite> = { strict: 'Strict', lax: 'Lax', none: 'None' };
  const cookieSameSite = sameSiteByName[sameSiteRaw] ?? 'Strict';
  if (!(sameSiteRaw in sameSiteByName)) {
    problems.push(
      `COOKIE_SAMESITE must be Strict, Lax or None (got "${value('COOKIE_SAMESITE')}").`,
    );
  }
  let cookieSecure = bool('COOKIE_SECURE', true);
  if (cookieSameSite === 'None') {
    // Browsers drop SameSite=None cookies that are not Secure (RFC 6265bis §5.6.19).
    cookieSecure = true;
  }

  const corsOrigins = (value('CORS_ORIGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => origin('CORS_ORIGINS', s))
    .filter((s): s is string => s !== undefined);

  let trustProxy: Config['trustProxy'] = false;
  const trustRaw = value('TRUST_PROXY');
  if (trustRaw !== undefined) {
    const lower = trustRaw.toLowerCase();
    if (['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(lower)) {
      trustProxy = bool('TRUST_PROXY', false);
    } else if (/^\d+$/.test(trustRaw)) {
      trustProxy = Number(trustRaw);
    } else {
      trustProxy = trustRaw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }

  const logLevel = value('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}").`);
  }

  // OWASP Password Storage Cheat Sheet, Argon2id: the floor is m=19 MiB, t=2, p=1.
  const argon2 = {
    memoryKib: int('ARGON2_MEMORY_KIB', 19_456, 19_456, 4_194_304),
    iterations: int('ARGON2_ITERATIONS', 2, 2, 100),
    parallelism: int('ARGON2_PARALLELISM', 1, 1, 16),
  };

  const config: Config = {
    port,
    host,
    publicUrl,
    databaseUrl,
    dataDir: resolve(cwd, value('DATA_DIR') ?? './data'),
    webDir: resolve(cwd, value('WEB_DIR') ?? DEFAULT_WEB_DIR),
    jwtIssuer: value('JWT_ISSUER') ?? publicUrl,
    jwtAudience: value('JWT_AUDIENCE') ?? 'latchkey',
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    sessionMaxAgeSeconds,
    refreshReuseGraceSeconds,
    clockToleranceSeconds: int('JWT_CLOCK_TOLERANCE', 0, 0, 300),
    cookieSameSite,
    cookieSecure,
    corsOrigins,
    loginMaxFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginFailureWindowSeconds: int('LOGIN_FAILURE_WINDOW', 900, 1, 86_400),
    rateLimitPerIp: int('RATE_LIMIT_PER_IP', 100, 0, 1_000_000),
    trustProxy,
    argon2,
    hashConcurrency: int('HASH_CONCURRENCY', 2, 1, 64),
    revocationPollMs: int('REVOCATION_POLL_MS', 500, 50, 60_000),
    logLevel,
    databaseStatementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    databaseConnectTimeoutMs: int('DATABASE_CONNECT_TIMEOUT_MS', 2000, 100, 600_000),
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

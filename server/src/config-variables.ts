/**
 * Every environment variable Latchkey reads, declared once: its parser and bounds, its default,
 * its documentation and where the docs show it. loadConfig (config.ts) parses with this table;
 * `.env.example` and the README's "Configure it" table are generated from it
 * (config-docs.ts, `npm run config-docs`), and the tests take every default from it, so a name, a
 * bound or a default has one home (docs/style.md rule 12).
 */
import { isIP } from 'node:net';

/** What a parser made of one value: the value, or the problems to report. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Reads one variable's value, already trimmed and never empty (blank means unset). */
export interface Parser<T> {
  /** The values it takes, in words; both the error messages and the docs use it. */
  readonly accepts?: string;
  read(raw: string, name: string): Parsed<T>;
}

/** The sections of `.env.example`, in order. */
export const CONFIG_GROUPS = {
  listen: { title: 'Where it listens' },
  storage: { title: 'Storage' },
  tokens: { title: 'Tokens and sessions' },
  cookies: { title: 'Cookies and browsers' },
  abuse: { title: 'Abuse resistance' },
  mail: {
    title: 'Mail (verification, password reset, email change)',
    intro:
      'Without SMTP_URL every mail is written as an .eml file to DATA_DIR/mail/ (development); ' +
      'the log names each file.',
  },
  hashing: {
    title: 'Password hashing (argon2id)',
    intro:
      "OWASP's minimum (Password Storage Cheat Sheet, Argon2id) is 19 MiB of memory, 2 " +
      'iterations and a parallelism of 1. Lower values are refused. Existing hashes are ' +
      'upgraded at the next successful login after you raise them.',
  },
  operations: { title: 'Operations' },
} as const satisfies Record<string, { title: string; intro?: string }>;

export type ConfigGroup = keyof typeof CONFIG_GROUPS;

interface VariableBase<T> {
  readonly group: ConfigGroup;
  readonly parser: Parser<T>;
  /** One line: the README's "what it does" and the first words of the `.env.example` comment. */
  readonly doc: string;
  /** More for the `.env.example` comment. */
  readonly details?: string;
  /** Shown in the README's short table of the settings most people set. */
  readonly inReadme?: boolean;
}

/** Set by default: the raw value, as an operator would write it (the parser reads it too). */
interface VariableWithDefault<T> extends VariableBase<T> {
  readonly default: string;
}

/** Unset by default: `.env.example` shows it commented out, with an example. */
interface VariableUnsetByDefault<T> extends VariableBase<T> {
  readonly default?: undefined;
  readonly example: string;
  /** What loadConfig uses when it is unset, when that is not simply "nothing". */
  readonly derivedDefault?: string;
}

export type ConfigVariable<T = unknown> = VariableWithDefault<T> | VariableUnsetByDefault<T>;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const refuse = (...problems: string[]): Parsed<never> => ({ ok: false, problems });

/** Any text: host names, paths, audiences. */
const text: Parser<string> = { read: (raw) => ok(raw) };

function wholeNumber(min: number, max: number): Parser<number> {
  const accepts = `a whole number from ${min} to ${max}`;
  return {
    accepts,
    read: (raw, name) =>
      /^-?\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max
        ? ok(Number(raw))
        : refuse(`${name} must be ${accepts} (got "${raw}").`),
  };
}

/** "a, b or c" */
const orList = (words: readonly string[]) =>
  words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;

/** One of `options`, matched case-insensitively; the value is spelled as in `options`. */
function oneOf<const T extends string>(options: readonly T[]): Parser<T> {
  const accepts = orList(options);
  return {
    accepts,
    read(raw, name) {
      const match = options.find((option) => option.toLowerCase() === raw.toLowerCase());
      return match === undefined ? refuse(`${name} must be ${accepts} (got "${raw}").`) : ok(match);
    },
  };
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

const flag: Parser<boolean> = {
  accepts: 'true or false',
  read(raw, name) {
    const lower = raw.toLowerCase();
    if (TRUE_WORDS.includes(lower)) return ok(true);
    if (FALSE_WORDS.includes(lower)) return ok(false);
    return refuse(`${name} must be true or false (got "${raw}").`);
  },
};

/** An http(s) origin (scheme, host, port; nothing more), normalised by the URL parser. */
function readOrigin(raw: string, name: string): Parsed<string> {
  try {
    const url = new URL(raw);
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.pathname === '/' &&
      !url.search &&
      !url.hash &&
      !url.username
    ) {
      return ok(url.origin);
    }
  } catch {
    // Not a URL at all: the same answer as a URL that is not an origin.
  }
  return refuse(
    `${name} must be an http(s) origin such as https://app.example.com (got "${raw}").`,
  );
}

/** PUBLIC_URL: an origin, written without the trailing slash it is compared without. */
const publicOrigin: Parser<string> = {
  read: (raw, name) =>
    raw.endsWith('/')
      ? refuse(`${name} must not end with a slash (got "${raw}").`)
      : readOrigin(raw, name),
};

/** A comma-separated list of origins; empty items are skipped, each bad one is reported. */
const originList: Parser<readonly string[]> = {
  read(raw, name) {
    const results = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => readOrigin(item, name));
    const problems = results.flatMap((result) => (result.ok ? [] : result.problems));
    return problems.length > 0
      ? refuse(...problems)
      : ok(results.flatMap((result) => (result.ok ? [result.value] : [])));
  },
};

/**
 * SMTP_URL: `smtp://[user:pass@]host:port` (STARTTLS when offered) or `smtps://` (implicit TLS).
 * The value is not echoed: it usually carries a password.
 */
const smtpUrl: Parser<string> = {
  accepts: 'smtp://[user:pass@]host:port or smtps://…',
  read(raw, name) {
    try {
      const url = new URL(raw);
      if ((url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '') {
        return ok(raw);
      }
    } catch {
      // Not a URL: the same answer as a URL of another scheme.
    }
    return refuse(
      `${name} must be smtp://[user:pass@]host:port or smtps://… (the value is not shown).`,
    );
  },
};

/** An origin, as PUBLIC_URL takes it; for PUBLIC_APP_URL. */
const appOrigin: Parser<string> = {
  read: (raw, name) =>
    raw.endsWith('/')
      ? refuse(`${name} must not end with a slash (got "${raw}").`)
      : readOrigin(raw, name),
};

const postgresUrl: Parser<string> = {
  // The value is not echoed: a database URL usually carries a password.
  read: (raw, name) =>
    /^postgres(ql)?:\/\//.test(raw)
      ? ok(raw)
      : refuse(`${name} must be a postgres:// URL, or unset for the embedded SQLite database.`),
};

/**
 * 32 random bytes in base64 (AES-256). The value is never echoed: it is a secret.
 */
const encryptionKey: Parser<Buffer> = {
  accepts: '32 random bytes in base64 (`openssl rand -base64 32`)',
  read(raw, name) {
    const bytes = Buffer.from(raw, 'base64');
    return /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) && bytes.length === 32
      ? ok(bytes)
      : refuse(`${name} must be 32 random bytes in base64, e.g. from \`openssl rand -base64 32\`.`);
  },
};

/** The shortest METRICS_TOKEN accepted: 16 characters leave far too many to guess over HTTP. */
const METRICS_TOKEN_MIN_LENGTH = 16;

/**
 * A bearer secret of visible ASCII without spaces (RFC 6750 §2.1 token68 and more), at least
 * `minLength` long. The value is never echoed: it is a secret.
 */
function bearerSecret(minLength: number): Parser<string> {
  const accepts = `at least ${minLength} visible ASCII characters, no spaces (\`openssl rand -hex 32\`)`;
  return {
    accepts,
    read: (raw, name) =>
      /^[\x21-\x7e]+$/.test(raw) && raw.length >= minLength
        ? ok(raw)
        : refuse(`${name} must be ${accepts}; the value is not shown.`),
  };
}

/**
 * No chain of proxies in front of one server is this long (a CDN, a load balancer and nginx are
 * three); a count far past the real one trusts addresses the client wrote, as `true` would.
 */
const MAX_PROXY_HOPS = 10;

/** A proxy address, or a CIDR whose prefix fits the address family (IPv4 /1-/32, IPv6 /1-/128). */
function isProxyAddress(item: string): boolean {
  const slash = item.indexOf('/');
  if (slash === -1) return isIP(item) !== 0;
  const family = isIP(item.slice(0, slash));
  const prefix = item.slice(slash + 1);
  // Prefix 0 is every address, which is `true` again; @fastify/proxy-addr also throws on it.
  return (
    family !== 0 &&
    /^\d{1,3}$/.test(prefix) &&
    Number(prefix) >= 1 &&
    Number(prefix) <= (family === 4 ? 32 : 128)
  );
}

const TRUST_PROXY_ACCEPTS =
  `false, a hop count from 1 to ${MAX_PROXY_HOPS}, ` +
  'or a comma list of proxy IP addresses or CIDRs';

/**
 * Who may name the client's IP in X-Forwarded-For, which the per-IP limits count (contract v2,
 * "TRUST_PROXY"). `true` is refused: trusting every hop takes the leftmost address, which the
 * client writes itself (MDN, X-Forwarded-For, "Selecting an IP address"; fastify/fastify#5865).
 * `1` is a hop count here, not `true` as COOKIE_SECURE would read it.
 */
const trustedProxies: Parser<false | number | readonly string[]> = {
  accepts: TRUST_PROXY_ACCEPTS,
  read(raw, name) {
    if (FALSE_WORDS.includes(raw.toLowerCase())) return ok(false);
    if (/^\d+$/.test(raw)) {
      const hops = Number(raw);
      if (hops === 0) return ok(false);
      return hops <= MAX_PROXY_HOPS
        ? ok(hops)
        : refuse(`${name} must be ${TRUST_PROXY_ACCEPTS} (got "${raw}").`);
    }
    if (TRUE_WORDS.includes(raw.toLowerCase())) {
      return refuse(
        `${name}=${raw} is refused: trusting every proxy hop lets any client forge its IP in ` +
          'X-Forwarded-For and dodge the per-IP limits. Set the number of proxies in front ' +
          '(1 for one), or better a comma list of their addresses or CIDRs (such as 127.0.0.1).',
      );
    }
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) return refuse(`${name} must be ${TRUST_PROXY_ACCEPTS} (got "${raw}").`);
    const malformed = items.filter((item) => !isProxyAddress(item));
    if (malformed.length > 0) {
      return refuse(
        `${name} must be ${TRUST_PROXY_ACCEPTS}; these are not IP addresses or CIDRs: ` +
          `${malformed.map((item) => `"${item}"`).join(', ')}.`,
      );
    }
    return ok(items);
  },
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const DAY_SECONDS = 86_400;

/**
 * The table, in the order `.env.example` lists it. Bounds that guard security carry their reason.
 */
export const CONFIG_VARIABLES = {
  PORT: {
    group: 'listen',
    parser: wholeNumber(0, 65_535),
    default: '3000',
    doc: 'TCP port the server listens on.',
    inReadme: true,
  },
  HOST: {
    group: 'listen',
    parser: text,
    default: '127.0.0.1',
    doc: 'Interface the server listens on: 127.0.0.1 keeps it private to this machine.',
    details: 'Use 0.0.0.0 (or ::) to expose it.',
    inReadme: true,
  },
  REQUEST_TIMEOUT_MS: {
    group: 'listen',
    parser: wholeNumber(100, 600_000),
    default: '10000',
    doc: 'A request must arrive whole (headers and body) within this many ms, or it gets 408.',
    details: 'Slow clients trickling a body cannot hold connections open for ever.',
  },
  KEEP_ALIVE_TIMEOUT_MS: {
    group: 'listen',
    parser: wholeNumber(100, 600_000),
    default: '5000',
    doc: 'An idle keep-alive connection is closed after this many ms.',
    details: 'Behind a proxy, keep it above the proxy’s own keep-alive timeout to its upstreams.',
  },
  PUBLIC_URL: {
    group: 'listen',
    parser: publicOrigin,
    example: 'https://auth.example.com',
    derivedDefault: 'http://HOST:PORT',
    doc: "The origin users reach the server at: the tokens' issuer and an allowed Origin.",
    details:
      'scheme://host[:port], no trailing slash. It is the issuer (`iss`) unless JWT_ISSUER is ' +
      'set, and an allowed Origin for cookie requests. Instances that share a database must be ' +
      'given the same value.',
    inReadme: true,
  },

  DATABASE_URL: {
    group: 'storage',
    parser: postgresUrl,
    example: 'postgres://latchkey:secret@127.0.0.1:5432/latchkey',
    doc: '`postgres://...`: use PostgreSQL, shared by every instance, instead of SQLite.',
    details:
      'Unset: the embedded SQLite database in DATA_DIR/latchkey.sqlite, created on first start. ' +
      'See docs/scale-out.md; the role needs no more than ownership of the database, tables are ' +
      'created on start.',
    inReadme: true,
  },
  DATA_DIR: {
    group: 'storage',
    parser: text,
    default: './data',
    doc: 'Where the SQLite database lives (relative to the working directory).',
    inReadme: true,
  },
  DATABASE_STATEMENT_TIMEOUT_MS: {
    group: 'storage',
    parser: wholeNumber(100, 600_000),
    default: '5000',
    doc: "Longest a query may take (ms): SQLite's busy timeout, PostgreSQL's statement_timeout.",
    details: 'Past it (or past the connect timeout) a request answers 503 with Retry-After.',
  },
  DATABASE_CONNECT_TIMEOUT_MS: {
    group: 'storage',
    parser: wholeNumber(100, 600_000),
    default: '2000',
    doc: 'PostgreSQL: longest wait (ms) for a connection, a new one or a free one in the pool.',
  },
  DATABASE_POOL_SIZE: {
    group: 'storage',
    parser: wholeNumber(1, 1000),
    default: '10',
    doc: 'PostgreSQL: connections per instance.',
    details: 'Instances x this must fit in max_connections.',
  },

  ACCESS_TOKEN_TTL: {
    group: 'tokens',
    parser: wholeNumber(1, DAY_SECONDS),
    default: '900',
    doc: 'Access token (JWT) lifetime, in seconds.',
    details: "Short, because it lives in the client's memory and cannot be recalled.",
    inReadme: true,
  },
  ACCESS_TOKEN_CACHE_SIZE: {
    group: 'tokens',
    parser: wholeNumber(1, 10_000_000),
    default: '10000',
    doc: 'Verified access tokens each instance remembers (about 1 KB each); the least recently used go first.',
    details:
      'A remembered token is checked without signature work; one that is not costs one Ed25519 verification (about 50 µs of CPU).',
  },
  REFRESH_TOKEN_TTL: {
    group: 'tokens',
    // 400 days: browsers cap a cookie's lifetime there (RFC 6265bis, the Max-Age attribute).
    parser: wholeNumber(1, 400 * DAY_SECONDS),
    default: '1209600',
    doc: 'Lifetime of each refresh cookie, in seconds (14 days); every refresh slides it.',
  },
  SESSION_MAX_AGE: {
    group: 'tokens',
    parser: wholeNumber(1, 400 * DAY_SECONDS),
    default: '2592000',
    doc: 'No session outlives this many seconds after login (30 days), however often it refreshes.',
  },
  REFRESH_REUSE_GRACE: {
    group: 'tokens',
    // Short: a replayed cookie inside the window is not yet treated as theft.
    parser: wholeNumber(0, 300),
    default: '10',
    doc: 'Seconds within which refreshes that reuse one cookie all succeed (several tabs).',
    details: 'Reuse after that is treated as theft and ends the whole session.',
  },
  MAX_SESSIONS_PER_USER: {
    group: 'tokens',
    parser: wholeNumber(1, 10_000),
    default: '50',
    doc: 'Live sessions a user may have; a sign-in past it ends the least recently used one.',
  },
  JWT_AUDIENCE: {
    group: 'tokens',
    parser: text,
    default: 'latchkey',
    doc: 'Token audience (`aud`).',
  },
  JWT_ISSUER: {
    group: 'tokens',
    parser: text,
    example: 'https://auth.example.com',
    derivedDefault: 'PUBLIC_URL',
    doc: 'Token issuer (`iss`).',
  },
  KEY_ENCRYPTION_KEY: {
    group: 'tokens',
    parser: encryptionKey,
    example: 'q3T1f0sXJ6mGgk3mWmJ1c8b3Vt5cJxS3lHkXvJ8mYq0=',
    doc: 'Encrypts the private signing keys at rest (AES-256-GCM); 32 bytes in base64.',
    details:
      'Unset: keys are stored in plain text and a warning is logged at start-up. Set it on every ' +
      'instance; existing plain keys are encrypted at the first start that has it. Losing it ' +
      'means new keys (every user signs in again). Keep it outside the database and its backups.',
  },
  JWT_CLOCK_TOLERANCE: {
    group: 'tokens',
    parser: wholeNumber(0, 300),
    default: '0',
    doc: 'Seconds of clock skew accepted on `exp` and `iat`; 0: none.',
  },
  REVOCATION_POLL_MS: {
    group: 'tokens',
    parser: wholeNumber(50, 60_000),
    default: '500',
    doc: 'How often (milliseconds) an instance syncs with the database when nothing signals it sooner: its heartbeat, and the revocation log read.',
    details:
      'Revocations reach other instances at once (PostgreSQL notifications; SQLite is looked at every 20 ms); this poll is the safety net and the heartbeat.',
  },
  REVOCATION_FAIL_CLOSED_MS: {
    group: 'tokens',
    parser: wholeNumber(1000, 600_000),
    default: '5000',
    doc: 'An instance that has not synced revocations with the database for this long (milliseconds) answers 503 to access tokens until it has; a logout waits at most this long for an instance that does not confirm.',
    details:
      'At least 4 times REVOCATION_POLL_MS. See docs/decisions/0008-revocation-on-every-instance.md.',
  },

  COOKIE_SAMESITE: {
    group: 'cookies',
    parser: oneOf(['Strict', 'Lax', 'None']),
    default: 'Strict',
    doc: 'SameSite of the refresh cookie.',
    details: 'None (the web app on another site) forces Secure.',
  },
  COOKIE_SECURE: {
    group: 'cookies',
    parser: flag,
    default: 'true',
    doc: 'Send cookies over HTTPS only; `false` only for plain-http development off localhost.',
    details: 'Browsers and curl send Secure cookies to http://localhost too.',
    inReadme: true,
  },
  CORS_ORIGINS: {
    group: 'cookies',
    parser: originList,
    example: 'https://app.example.com,http://localhost:4200',
    doc: 'Comma-separated origins of web apps elsewhere that may call the API with cookies.',
    inReadme: true,
  },

  LOGIN_MAX_FAILURES: {
    group: 'abuse',
    parser: wholeNumber(1, 1000),
    default: '5',
    doc: 'Failed logins allowed per email within LOGIN_FAILURE_WINDOW before it answers 429.',
  },
  LOGIN_FAILURE_WINDOW: {
    group: 'abuse',
    parser: wholeNumber(1, DAY_SECONDS),
    default: '900',
    doc: 'Seconds over which failed logins for one email are counted, from the first failure.',
  },
  RATE_LIMIT_PER_IP: {
    group: 'abuse',
    parser: wholeNumber(0, 1_000_000),
    default: '100',
    doc: 'Requests per minute per IP to each of register, login and refresh; 0 turns it off.',
  },
  TRUST_PROXY: {
    group: 'abuse',
    parser: trustedProxies,
    default: 'false',
    doc: 'Which proxies may name the client IP (X-Forwarded-For): none, a hop count, or a list.',
    details:
      '1 means one proxy in front: the client is the last address that proxy appended. A hop ' +
      'count checks nothing about who connects, so use it only when nothing else can reach this ' +
      'port; a list such as 127.0.0.1,10.0.0.0/8 is safer. true is refused: trusting every hop ' +
      'lets any client forge its IP and dodge the per-IP limits.',
    inReadme: true,
  },

  SMTP_URL: {
    group: 'mail',
    parser: smtpUrl,
    example: 'smtp://latchkey:secret@mail.example.com:587',
    doc: 'Where mail goes out (smtp:// with STARTTLS when offered, smtps:// for implicit TLS).',
    details:
      'Unset: mails are .eml files in DATA_DIR/mail/. Delivery happens in the background from ' +
      'an outbox in the database, with retries that survive a restart.',
    inReadme: true,
  },
  MAIL_FROM: {
    group: 'mail',
    parser: text,
    example: 'Latchkey <no-reply@auth.example.com>',
    derivedDefault: 'Latchkey <no-reply@HOST of PUBLIC_URL>',
    doc: 'The From of every mail.',
  },
  PUBLIC_APP_URL: {
    group: 'mail',
    parser: appOrigin,
    example: 'https://app.example.com',
    derivedDefault: 'PUBLIC_URL',
    doc: 'Where links in mails point when the web app lives on another origin than the API.',
  },
  EMAIL_VERIFY_TTL: {
    group: 'mail',
    parser: wholeNumber(60, 30 * DAY_SECONDS),
    default: '86400',
    doc: 'Seconds a verification link works.',
  },
  PASSWORD_RESET_TTL: {
    group: 'mail',
    // OWASP Forgot Password Cheat Sheet: reset tokens expire after a short period.
    parser: wholeNumber(60, DAY_SECONDS),
    default: '3600',
    doc: 'Seconds a password reset link works.',
  },
  EMAIL_CHANGE_TTL: {
    group: 'mail',
    parser: wholeNumber(60, DAY_SECONDS),
    default: '3600',
    doc: 'Seconds an email change confirmation link works.',
  },
  EMAIL_RESEND_INTERVAL: {
    group: 'mail',
    parser: wholeNumber(1, DAY_SECONDS),
    default: '60',
    doc: 'One mail of each kind per this many seconds per account (and per email for resets).',
  },
  REQUIRE_EMAIL_VERIFICATION: {
    group: 'mail',
    parser: flag,
    default: 'false',
    doc: 'Register signs in only after the address is verified; unverified logins answer 403.',
  },

  ARGON2_MEMORY_KIB: {
    group: 'hashing',
    parser: wholeNumber(19_456, 4_194_304),
    default: '19456',
    doc: 'Memory per hash, in KiB (19456 is 19 MiB).',
  },
  ARGON2_ITERATIONS: {
    group: 'hashing',
    parser: wholeNumber(2, 100),
    default: '2',
    doc: 'Passes over that memory (the time cost).',
  },
  ARGON2_PARALLELISM: {
    group: 'hashing',
    parser: wholeNumber(1, 16),
    default: '1',
    doc: 'Lanes per hash.',
  },
  HASH_CONCURRENCY: {
    group: 'hashing',
    parser: wholeNumber(1, 64),
    default: '2',
    doc: 'Hashes computed at once; more wait in line, so token checks never queue behind them.',
  },
  HASH_THREAD_NICE: {
    group: 'hashing',
    // Decision 0013: with token checks and signatures on the event loop, libuv's threadpool runs
    // the hashes (and file I/O); a lower priority lets a core go to a token check first.
    parser: wholeNumber(0, 19),
    default: '19',
    doc: "Nice value of libuv's worker threads, where argon2id runs (Linux); 0 leaves them as they are.",
    details:
      'A login storm then takes only the CPU that token checks leave over, so their latency holds; other busy programs on the machine slow logins more.',
  },
  HASH_QUEUE_MAX: {
    group: 'hashing',
    parser: wholeNumber(1, 100_000),
    default: '64',
    doc: 'Password checks allowed to wait for a hash; past it they answer 503 with Retry-After.',
    details: 'A bounded line: one client cannot make every login wait seconds behind its requests.',
  },

  AUDIT_RETENTION_DAYS: {
    group: 'operations',
    parser: wholeNumber(1, 3650),
    default: '90',
    doc: 'Audit events older than this many days are deleted.',
  },
  LOG_LEVEL: {
    group: 'operations',
    parser: oneOf(LOG_LEVELS),
    default: 'info',
    doc: 'How much is logged.',
    details: 'Logs are JSON lines on stdout; passwords, tokens and cookies are never written.',
  },
  METRICS_TOKEN: {
    group: 'operations',
    parser: bearerSecret(METRICS_TOKEN_MIN_LENGTH),
    example: 'change-me-to-32-random-characters',
    doc: 'Bearer token for GET /metrics (Prometheus text format); unset, /metrics is a 404.',
    details: 'A scrape without it, or with another, answers 401. Keep it as secret as a password.',
    inReadme: true,
  },
  WEB_DIR: {
    group: 'operations',
    parser: text,
    example: '/srv/latchkey/web',
    derivedDefault: 'web/dist/web/browser',
    doc: 'Directory of the built web app, served at /.',
    details:
      "A relative path starts at the working directory; the default is this repository's build.",
  },
} as const satisfies Record<string, ConfigVariable>;

export type ConfigVariableName = keyof typeof CONFIG_VARIABLES;

type ValueOf<V> = V extends { parser: Parser<infer T>; default: string }
  ? T
  : V extends { parser: Parser<infer T> }
    ? T | undefined
    : never;

/** Each variable's parsed value; `undefined` only for those unset by default. */
export type ConfigValues = {
  -readonly [K in ConfigVariableName]: ValueOf<(typeof CONFIG_VARIABLES)[K]>;
};

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { renderEnvExample, withConfigTable } from '../src/config-docs.ts';
import { CONFIG_VARIABLES, type ConfigVariable } from '../src/config-variables.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import {
  createTestApp,
  GOOD_PASSWORD,
  json,
  listSessions,
  uniqueEmail,
} from './support/test-app.ts';

const VARIABLES = Object.entries(CONFIG_VARIABLES) as [string, ConfigVariable][];
const CWD = '/srv/latchkey';
const DEFAULT_CONFIG = loadConfig({}, CWD);

/**
 * A valid value other than the default for every variable of the table; a test checks that it
 * covers the whole table, so a new variable cannot go untested.
 */
const OTHER_VALUES: Record<string, string> = {
  PORT: '8443',
  HOST: '0.0.0.0',
  PUBLIC_URL: 'https://auth.example.com',
  DATABASE_URL: 'postgres://latchkey@127.0.0.1:5432/latchkey',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64'),
  DATA_DIR: '/var/lib/latchkey',
  DATABASE_STATEMENT_TIMEOUT_MS: '1500',
  DATABASE_CONNECT_TIMEOUT_MS: '700',
  DATABASE_POOL_SIZE: '25',
  ACCESS_TOKEN_TTL: '60',
  REFRESH_TOKEN_TTL: '3600',
  SESSION_MAX_AGE: '7200',
  REFRESH_REUSE_GRACE: '2',
  JWT_AUDIENCE: 'my-api',
  JWT_ISSUER: 'urn:latchkey',
  JWT_CLOCK_TOLERANCE: '5',
  ACCESS_TOKEN_CACHE_SIZE: '500',
  HASH_THREAD_NICE: '5',
  REVOCATION_POLL_MS: '250',
  REVOCATION_FAIL_CLOSED_MS: '3000',
  COOKIE_SAMESITE: 'lax',
  COOKIE_SECURE: 'false',
  CORS_ORIGINS: 'https://app.example',
  LOGIN_MAX_FAILURES: '3',
  LOGIN_FAILURE_WINDOW: '60',
  RATE_LIMIT_PER_IP: '0',
  TRUST_PROXY: '1',
  ARGON2_MEMORY_KIB: '65536',
  ARGON2_ITERATIONS: '3',
  ARGON2_PARALLELISM: '2',
  HASH_CONCURRENCY: '4',
  HASH_QUEUE_MAX: '16',
  MAX_SESSIONS_PER_USER: '7',
  REQUEST_TIMEOUT_MS: '20000',
  KEEP_ALIVE_TIMEOUT_MS: '7000',
  LOG_LEVEL: 'warn',
  METRICS_TOKEN: 'scrape-secret-0123456789',
  WEB_DIR: '/srv/latchkey/web',
  SMTP_URL: 'smtps://mailer:secret@mail.example.com:465',
  MAIL_FROM: 'Example <auth@example.com>',
  PUBLIC_APP_URL: 'https://app.example.com',
  EMAIL_VERIFY_TTL: '600',
  PASSWORD_RESET_TTL: '900',
  EMAIL_CHANGE_TTL: '1200',
  EMAIL_RESEND_INTERVAL: '30',
  REQUIRE_EMAIL_VERIFICATION: 'true',
  AUDIT_RETENTION_DAYS: '30',
};

/** Runs loadConfig and returns the ConfigError it must throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults', () => {
  test('loadConfig of an empty environment gives every documented default', () => {
    for (const [name, variable] of VARIABLES) {
      if (variable.default === undefined) continue;
      // A fallback in loadConfig that differs from the table would make these two differ.
      assert.deepEqual(loadConfig({ [name]: variable.default }, CWD), DEFAULT_CONFIG, name);
    }
    const allDefaults = Object.fromEntries(
      VARIABLES.flatMap(([name, variable]) =>
        variable.default === undefined ? [] : [[name, variable.default]],
      ),
    );
    assert.deepEqual(loadConfig(allDefaults, CWD), DEFAULT_CONFIG);
  });

  test('loadConfig derives the defaults of the variables unset by default', () => {
    const { HOST, PORT, DATA_DIR } = CONFIG_VARIABLES;
    const publicUrl = `http://${HOST.default}:${PORT.default}`;
    assert.equal(CONFIG_VARIABLES.PUBLIC_URL.derivedDefault, 'http://HOST:PORT');
    assert.equal(DEFAULT_CONFIG.publicUrl, publicUrl);
    assert.equal(CONFIG_VARIABLES.JWT_ISSUER.derivedDefault, 'PUBLIC_URL');
    assert.equal(DEFAULT_CONFIG.jwtIssuer, publicUrl);
    assert.equal(DEFAULT_CONFIG.dataDir, resolve(CWD, DATA_DIR.default));
    assert.ok(
      DEFAULT_CONFIG.webDir.endsWith(`/${CONFIG_VARIABLES.WEB_DIR.derivedDefault}`),
      DEFAULT_CONFIG.webDir,
    );
    assert.equal(DEFAULT_CONFIG.databaseUrl, undefined);
    assert.deepEqual(DEFAULT_CONFIG.corsOrigins, []);
  });

  test('loadConfig accepts the example of every variable unset by default, and reads it', () => {
    for (const [name, variable] of VARIABLES) {
      if (variable.default !== undefined) continue;
      const config = loadConfig({ [name]: variable.example }, CWD);
      assert.notDeepEqual(config, DEFAULT_CONFIG, `${name}=${variable.example} changes nothing`);
    }
  });

  test('loadConfig reads every variable of the table', () => {
    assert.deepEqual(
      Object.keys(OTHER_VALUES).sort(),
      VARIABLES.map(([name]) => name).sort(),
      'OTHER_VALUES names every variable of the table',
    );
    for (const [name, value] of Object.entries(OTHER_VALUES)) {
      const config = loadConfig({ [name]: value }, CWD);
      assert.notDeepEqual(config, DEFAULT_CONFIG, `${name}=${value} changes nothing`);
    }
  });

  test('every variable of the table is documented', () => {
    for (const [name, variable] of VARIABLES) {
      assert.match(name, /^[A-Z][A-Z0-9_]*$/, 'SCREAMING_SNAKE');
      assert.match(variable.doc, /^\S.*\.$/, `${name}: one sentence`);
      assert.doesNotMatch(variable.doc, /\n|\|/, `${name}: one line, fit for a Markdown table`);
      assert.ok(variable.default !== undefined || variable.example !== '', `${name}: an example`);
    }
  });

  test('loadConfig reads the PostgreSQL settings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://latchkey@127.0.0.1:5432/latchkey',
      DATABASE_STATEMENT_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_TIMEOUT_MS: '700',
      DATABASE_POOL_SIZE: '25',
    });
    assert.equal(config.databaseUrl, 'postgres://latchkey@127.0.0.1:5432/latchkey');
    assert.equal(config.databaseStatementTimeoutMs, 1500);
    assert.equal(config.databaseConnectTimeoutMs, 700);
    assert.equal(config.databasePoolSize, 25);
  });

  test('loadConfig returns a frozen object, lists and argon2 settings included', () => {
    const config = loadConfig({
      CORS_ORIGINS: 'https://app.example',
      TRUST_PROXY: '127.0.0.1',
    });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.corsOrigins));
    assert.ok(Object.isFrozen(config.trustProxy));
    assert.ok(Object.isFrozen(config.argon2));
  });

  test('loadConfig treats empty and blank variables as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '   ',
      ACCESS_TOKEN_TTL: ' ',
      COOKIE_SAMESITE: '',
    });
    assert.deepEqual(config, loadConfig({}));
  });

  test('loadConfig derives the public URL and issuer from HOST and PORT', () => {
    const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080' });
    assert.equal(config.publicUrl, 'http://0.0.0.0:8080');
    assert.equal(config.jwtIssuer, 'http://0.0.0.0:8080');
  });

  test('loadConfig brackets an IPv6 HOST in the public URL', () => {
    const config = loadConfig({ HOST: '::1', PORT: '4000' });
    assert.equal(config.publicUrl, 'http://[::1]:4000');
    assert.doesNotThrow(() => new URL(config.publicUrl));
  });

  test('loadConfig uses PUBLIC_URL as the issuer unless JWT_ISSUER is set', () => {
    assert.equal(
      loadConfig({ PUBLIC_URL: 'https://auth.example.com' }).jwtIssuer,
      'https://auth.example.com',
    );
    const config = loadConfig({
      PUBLIC_URL: 'https://auth.example.com',
      JWT_ISSUER: 'urn:latchkey',
    });
    assert.equal(config.publicUrl, 'https://auth.example.com');
    assert.equal(config.jwtIssuer, 'urn:latchkey');
  });

  test('loadConfig puts each variable in its field', () => {
    assert.deepEqual(loadConfig(OTHER_VALUES, CWD), {
      port: 8443,
      host: '0.0.0.0',
      publicUrl: 'https://auth.example.com',
      databaseUrl: 'postgres://latchkey@127.0.0.1:5432/latchkey',
      keyEncryptionKey: Buffer.alloc(32, 5),
      dataDir: '/var/lib/latchkey',
      webDir: '/srv/latchkey/web',
      jwtIssuer: 'urn:latchkey',
      jwtAudience: 'my-api',
      accessTokenTtlSeconds: 60,
      refreshTokenTtlSeconds: 3600,
      sessionMaxAgeSeconds: 7200,
      refreshReuseGraceSeconds: 2,
      clockToleranceSeconds: 5,
      accessTokenCacheSize: 500,
      cookieSameSite: 'Lax',
      cookieSecure: false,
      corsOrigins: ['https://app.example'],
      loginMaxFailures: 3,
      loginFailureWindowSeconds: 60,
      rateLimitPerIp: 0,
      trustProxy: 1,
      argon2: { memoryKib: 65_536, iterations: 3, parallelism: 2 },
      hashConcurrency: 4,
      hashThreadNice: 5,
      hashQueueMax: 16,
      maxSessionsPerUser: 7,
      requestTimeoutMs: 20000,
      keepAliveTimeoutMs: 7000,
      revocationPollMs: 250,
      revocationFailClosedMs: 3000,
      logLevel: 'warn',
      metricsToken: 'scrape-secret-0123456789',
      databaseStatementTimeoutMs: 1500,
      databaseConnectTimeoutMs: 700,
      databasePoolSize: 25,
      auditRetentionDays: 30,
      mail: {
        smtpUrl: 'smtps://mailer:secret@mail.example.com:465',
        from: 'Example <auth@example.com>',
        appUrl: 'https://app.example.com',
        verifyTtlSeconds: 600,
        resetTtlSeconds: 900,
        changeTtlSeconds: 1200,
        resendIntervalSeconds: 30,
        requireVerification: true,
      },
    });
  });

  test('loadConfig derives the mail sender and the links’ origin from PUBLIC_URL', () => {
    const config = loadConfig({ PUBLIC_URL: 'https://auth.example.com' });
    assert.equal(config.mail.from, 'Latchkey <no-reply@auth.example.com>');
    assert.equal(config.mail.appUrl, 'https://auth.example.com');
    assert.equal(config.mail.smtpUrl, undefined);
  });

  test('loadConfig refuses an SMTP_URL of another scheme without echoing it', () => {
    const error = configError({ SMTP_URL: 'http://user:hunter2@mail.example.com' });
    assert.match(error.message, /SMTP_URL must be smtp:\/\//);
    assert.doesNotMatch(error.message, /hunter2/);
  });

  test('loadConfig reads CORS_ORIGINS as a comma-separated list of origins', () => {
    const config = loadConfig({ CORS_ORIGINS: ' https://app.example , http://localhost:4200,' });
    assert.deepEqual(config.corsOrigins, ['https://app.example', 'http://localhost:4200']);
  });
});

describe('TRUST_PROXY', () => {
  test('TRUST_PROXY reads false, 0, no and off as no proxy', () => {
    for (const raw of ['false', '0', 'no', 'off', 'FALSE', 'Off', '00']) {
      assert.equal(loadConfig({ TRUST_PROXY: raw }).trustProxy, false, raw);
    }
  });

  test('TRUST_PROXY reads a whole number as a hop count', () => {
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.equal(loadConfig({ TRUST_PROXY: '10' }).trustProxy, 10);
  });

  test('TRUST_PROXY reads a comma list of IPv4 and IPv6 addresses and CIDRs', () => {
    const raw = ' 127.0.0.1 , 10.0.0.0/8,::1, fd00::/8,192.168.1.0/24, ::ffff:10.0.0.1,';
    assert.deepEqual(loadConfig({ TRUST_PROXY: raw }).trustProxy, [
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '192.168.1.0/24',
      '::ffff:10.0.0.1',
    ]);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/32, 2001:db8::/128' }).trustProxy, [
      '10.0.0.0/32',
      '2001:db8::/128',
    ]);
  });

  test('TRUST_PROXY=true is refused, saying why and what to set instead', () => {
    for (const raw of ['true', 'TRUE', 'yes', 'on']) {
      const error = configError({ TRUST_PROXY: raw });
      assert.equal(error.problems.length, 1, error.message);
      const [problem = ''] = error.problems;
      assert.match(problem, new RegExp(`^TRUST_PROXY=${raw} is refused`));
      assert.match(problem, /forge its IP/, 'says why');
      assert.match(problem, /per-IP limits/, 'says what it would defeat');
      assert.match(problem, /number of proxies/, 'suggests a hop count');
      assert.match(problem, /addresses or CIDRs/, 'suggests a list of proxies');
    }
  });

  test('TRUST_PROXY refuses malformed addresses, naming each one', () => {
    const bad = ['10.0.0.0/33', '1.2.3', '::1/129', 'localhost', '10.0.0.0/x', '10.0.0.0/', '1.5'];
    const error = configError({ TRUST_PROXY: ['10.0.0.1', ...bad, '::1'].join(', ') });
    assert.equal(error.problems.length, 1, error.message);
    for (const item of bad) assert.ok(error.message.includes(`"${item}"`), item);
    assert.ok(!error.message.includes('"10.0.0.1"'), 'a good address is not named');
    assert.ok(!error.message.includes('"::1"'), 'a good address is not named');
  });

  test('TRUST_PROXY refuses a CIDR of every address, which is true again', () => {
    for (const raw of ['0.0.0.0/0', '::/0', '10.0.0.1, 0.0.0.0/0']) {
      assert.match(configError({ TRUST_PROXY: raw }).message, /TRUST_PROXY/, raw);
    }
  });

  test('TRUST_PROXY refuses hop counts that are negative, fractional or past the bound', () => {
    for (const raw of ['-1', '2.5', '11', '1000', ',']) {
      const error = configError({ TRUST_PROXY: raw });
      assert.equal(error.problems.length, 1, raw);
      assert.match(error.message, /TRUST_PROXY must be false, a hop count from 1 to 10/, raw);
    }
  });

  test('TRUST_PROXY problems are reported with the other problems', () => {
    const error = configError({ TRUST_PROXY: 'true', PORT: 'eighty', CORS_ORIGINS: 'nope' });
    assert.equal(error.problems.length, 3, error.message);
  });
});

describe('TRUST_PROXY through the app', () => {
  /** Registers through the app with `X-Forwarded-For`, and returns the IP its session records. */
  async function sessionIp(ctx: TestContext, env: Record<string, string>): Promise<string | null> {
    const t = await createTestApp({ env });
    ctx.after(() => t.close());
    // The client wrote the first address; the proxy in front appended the second.
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' },
      payload: { email: uniqueEmail('proxied'), password: GOOD_PASSWORD },
    });
    assert.equal(res.statusCode, 201, res.body);
    const [session] = await listSessions(t.app, json(res).auth_token as string);
    assert.ok(session !== undefined);
    return session.ip;
  }

  // Fastify >= 5.12.1 ignores a numeric trustProxy (its docs, "trustProxy": a bare hop count
  // cannot check the peer), so the app passes a hop count as a trust function of its own.
  test('with TRUST_PROXY=1 the client IP is the last X-Forwarded-For address', async (ctx) => {
    assert.equal(await sessionIp(ctx, { TRUST_PROXY: '1' }), '198.51.100.7');
  });

  test('with TRUST_PROXY naming the proxy the client IP is what it appended', async (ctx) => {
    // inject() connects from 127.0.0.1: that is the proxy here.
    const env = { TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, fd00::/8' };
    assert.equal(await sessionIp(ctx, env), '198.51.100.7');
  });

  test('without TRUST_PROXY X-Forwarded-For is ignored', async (ctx) => {
    assert.equal(await sessionIp(ctx, {}), '127.0.0.1');
  });
});

describe('loadConfig errors', () => {
  test('loadConfig refuses a KEY_ENCRYPTION_KEY that is not 32 bytes of base64, without echoing it', () => {
    for (const raw of ['short', Buffer.alloc(16).toString('base64'), `${'!'.repeat(43)}=`]) {
      assert.throws(
        () => loadConfig({ KEY_ENCRYPTION_KEY: raw }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /KEY_ENCRYPTION_KEY must be 32 random bytes/.test(error.message) &&
          !error.message.includes(raw),
      );
    }
  });

  test('loadConfig refuses a METRICS_TOKEN that is short or has spaces, without echoing it', () => {
    for (const raw of ['short-secret', 'sixteen chars with spaces']) {
      const error = configError({ METRICS_TOKEN: raw });
      assert.match(error.message, /METRICS_TOKEN must be at least 16 visible ASCII characters/);
      assert.ok(!error.message.includes(raw), error.message);
    }
  });

  test('loadConfig reports every problem at once', () => {
    const error = configError({
      ACCESS_TOKEN_TTL: 'abc',
      COOKIE_SAMESITE: 'sideways',
      PORT: '70000',
    });
    assert.equal(error.problems.length, 3, error.message);
    for (const name of ['ACCESS_TOKEN_TTL', 'COOKIE_SAMESITE', 'PORT']) {
      assert.match(error.message, new RegExp(`\\b${name}\\b`), `the message names ${name}`);
      assert.equal(
        error.problems.filter((p) => p.includes(name)).length,
        1,
        `one problem for ${name}`,
      );
    }
    assert.match(error.message, /abc/, 'the message shows the bad value');
    assert.match(error.message, /sideways/);
  });

  test('loadConfig refuses argon2 settings below the OWASP floor', () => {
    const memory = configError({ ARGON2_MEMORY_KIB: '1024' });
    assert.equal(memory.problems.length, 1);
    assert.match(memory.message, /ARGON2_MEMORY_KIB/);
    assert.match(configError({ ARGON2_ITERATIONS: '1' }).message, /ARGON2_ITERATIONS/);
    assert.match(configError({ ARGON2_PARALLELISM: '0' }).message, /ARGON2_PARALLELISM/);
  });

  test('loadConfig accepts argon2 settings at or above the OWASP floor', () => {
    const config = loadConfig({ ARGON2_MEMORY_KIB: '19456', ARGON2_ITERATIONS: '2' });
    assert.deepEqual(config.argon2, { memoryKib: 19_456, iterations: 2, parallelism: 1 });
    assert.equal(loadConfig({ ARGON2_MEMORY_KIB: '65536' }).argon2.memoryKib, 65_536);
  });

  test('loadConfig refuses a PUBLIC_URL with a trailing slash', () => {
    const error = configError({ PUBLIC_URL: 'https://auth.example.com/' });
    assert.equal(error.problems.length, 1);
    assert.match(error.message, /PUBLIC_URL/);
  });

  test('loadConfig refuses a PUBLIC_URL that is not an http(s) origin', () => {
    for (const url of [
      'auth.example.com',
      'ftp://auth.example.com',
      'https://auth.example.com/api',
    ]) {
      assert.match(configError({ PUBLIC_URL: url }).message, /PUBLIC_URL/, url);
    }
  });

  test('loadConfig refuses an unknown COOKIE_SAMESITE', () => {
    assert.match(configError({ COOKIE_SAMESITE: 'sideways' }).message, /COOKIE_SAMESITE/);
  });

  test('loadConfig refuses numbers that are not whole or out of range', () => {
    for (const [name, raw] of [
      ['ACCESS_TOKEN_TTL', '1.5'],
      ['ACCESS_TOKEN_TTL', '0'],
      ['PORT', '-1'],
      ['RATE_LIMIT_PER_IP', '-5'],
      ['LOGIN_MAX_FAILURES', '0'],
      ['REFRESH_TOKEN_TTL', '1e6'],
    ] as const) {
      assert.match(configError({ [name]: raw }).message, new RegExp(name), `${name}=${raw}`);
    }
  });

  test('loadConfig refuses a COOKIE_SECURE that is not a boolean', () => {
    assert.match(configError({ COOKIE_SECURE: 'maybe' }).message, /COOKIE_SECURE/);
  });

  test('loadConfig refuses a CORS origin with a path', () => {
    assert.match(configError({ CORS_ORIGINS: 'https://app.example/app' }).message, /CORS_ORIGINS/);
  });

  test('loadConfig refuses a DATABASE_URL that is not PostgreSQL', () => {
    assert.match(configError({ DATABASE_URL: 'mysql://db/latchkey' }).message, /DATABASE_URL/);
  });

  test('loadConfig names the renamed DATABASE_TIMEOUT_MS instead of ignoring it', () => {
    assert.match(
      configError({ DATABASE_TIMEOUT_MS: '3000' }).message,
      /DATABASE_TIMEOUT_MS is now DATABASE_STATEMENT_TIMEOUT_MS/,
    );
  });

  test('loadConfig refuses database timeouts and pool sizes out of range', () => {
    const error = configError({
      DATABASE_STATEMENT_TIMEOUT_MS: '5',
      DATABASE_CONNECT_TIMEOUT_MS: 'soon',
      DATABASE_POOL_SIZE: '0',
    });
    assert.match(error.message, /DATABASE_STATEMENT_TIMEOUT_MS/);
    assert.match(error.message, /DATABASE_CONNECT_TIMEOUT_MS/);
    assert.match(error.message, /DATABASE_POOL_SIZE/);
  });

  test('loadConfig refuses a revocation bound shorter than four polls, naming both', () => {
    const error = configError({ REVOCATION_POLL_MS: '2000', REVOCATION_FAIL_CLOSED_MS: '5000' });
    assert.match(
      error.message,
      /REVOCATION_FAIL_CLOSED_MS \(5000\) must be at least 4 times REVOCATION_POLL_MS \(2000\)/,
    );
    assert.doesNotThrow(() =>
      loadConfig({ REVOCATION_POLL_MS: '1000', REVOCATION_FAIL_CLOSED_MS: '4000' }),
    );
  });

  test('loadConfig refuses an unknown LOG_LEVEL', () => {
    assert.match(configError({ LOG_LEVEL: 'loud' }).message, /LOG_LEVEL/);
  });
});

describe('loadConfig cookie rules', () => {
  test('COOKIE_SAMESITE=None forces cookieSecure', () => {
    const config = loadConfig({ COOKIE_SAMESITE: 'None', COOKIE_SECURE: 'false' });
    assert.equal(config.cookieSameSite, 'None');
    assert.equal(config.cookieSecure, true);
  });

  test('COOKIE_SECURE=false turns Secure off for the other SameSite values', () => {
    for (const sameSite of ['Strict', 'Lax']) {
      const config = loadConfig({ COOKIE_SAMESITE: sameSite, COOKIE_SECURE: 'false' });
      assert.equal(config.cookieSecure, false, sameSite);
    }
  });

  test('COOKIE_SAMESITE is read case-insensitively', () => {
    assert.equal(loadConfig({ COOKIE_SAMESITE: 'NONE' }).cookieSameSite, 'None');
    assert.equal(loadConfig({ COOKIE_SAMESITE: 'strict' }).cookieSameSite, 'Strict');
  });
});

describe('configuration docs', () => {
  const root = new URL('../../', import.meta.url);
  const committed = (path: string) => readFileSync(new URL(path, root), 'utf8');

  test('.env.example is what npm run config-docs generates from the table', () => {
    assert.ok(
      committed('.env.example') === renderEnvExample(),
      '.env.example differs from server/src/config-variables.ts: run `npm run config-docs`.',
    );
  });

  test("the README's config table is what npm run config-docs generates from the table", () => {
    const readme = committed('README.md');
    assert.ok(
      readme === withConfigTable(readme),
      "README.md's config table differs from config-variables.ts: run `npm run config-docs`.",
    );
  });

  test('the README table shows the variables marked for it, with their defaults', () => {
    const readme = committed('README.md');
    for (const [name, variable] of VARIABLES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      assert.equal(row !== undefined, variable.inReadme === true, name);
      if (row !== undefined && variable.default !== undefined) {
        assert.ok(row.includes(`\`${variable.default}\``), `${name} shows its default`);
      }
    }
  });

  test('.env.example sets every variable with a default and shows an example of the others', () => {
    const lines = committed('.env.example').split('\n');
    for (const [name, variable] of VARIABLES) {
      const line =
        variable.default === undefined
          ? `# ${name}=${variable.example}`
          : `${name}=${variable.default}`;
      assert.ok(lines.includes(line), line);
    }
  });
});

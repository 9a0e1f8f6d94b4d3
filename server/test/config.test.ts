import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.ts';

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
  test('loadConfig of an empty environment gives the documented defaults', () => {
    const config = loadConfig({}, '/srv/latchkey');
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'http://127.0.0.1:3000');
    assert.equal(config.jwtIssuer, 'http://127.0.0.1:3000');
    assert.equal(config.jwtAudience, 'latchkey');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, resolve('/srv/latchkey', 'data'));
    assert.equal(config.accessTokenTtlSeconds, 900);
    assert.equal(config.refreshTokenTtlSeconds, 14 * 86_400);
    assert.equal(config.sessionMaxAgeSeconds, 30 * 86_400);
    assert.equal(config.refreshReuseGraceSeconds, 10);
    assert.equal(config.clockToleranceSeconds, 0);
    assert.equal(config.cookieSameSite, 'Strict');
    assert.equal(config.cookieSecure, true);
    assert.deepEqual(config.corsOrigins, []);
    assert.equal(config.loginMaxFailures, 5);
    assert.equal(config.loginFailureWindowSeconds, 900);
    assert.equal(config.rateLimitPerIp, 100);
    assert.equal(config.trustProxy, false);
    assert.deepEqual(config.argon2, { memoryKib: 19_456, iterations: 2, parallelism: 1 });
    assert.equal(config.logLevel, 'info');
    assert.equal(config.databaseStatementTimeoutMs, 5000);
    assert.equal(config.databaseConnectTimeoutMs, 2000);
    assert.equal(config.databasePoolSize, 10);
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

  test('loadConfig returns a frozen object', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
  });

  test('loadConfig treats empty and blank variables as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '   ',
      ACCESS_TOKEN_TTL: ' ',
      COOKIE_SAMESITE: '',
    });
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.accessTokenTtlSeconds, 900);
    assert.equal(config.cookieSameSite, 'Strict');
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

  test('loadConfig reads every documented variable', () => {
    const config = loadConfig({
      PORT: '8443',
      ACCESS_TOKEN_TTL: '60',
      REFRESH_TOKEN_TTL: '3600',
      SESSION_MAX_AGE: '7200',
      REFRESH_REUSE_GRACE: '2',
      JWT_AUDIENCE: 'my-api',
      LOGIN_MAX_FAILURES: '3',
      LOGIN_FAILURE_WINDOW: '60',
      RATE_LIMIT_PER_IP: '0',
      COOKIE_SAMESITE: 'lax',
      COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    });
    assert.equal(config.port, 8443);
    assert.equal(config.accessTokenTtlSeconds, 60);
    assert.equal(config.refreshTokenTtlSeconds, 3600);
    assert.equal(config.sessionMaxAgeSeconds, 7200);
    assert.equal(config.refreshReuseGraceSeconds, 2);
    assert.equal(config.jwtAudience, 'my-api');
    assert.equal(config.loginMaxFailures, 3);
    assert.equal(config.loginFailureWindowSeconds, 60);
    assert.equal(config.rateLimitPerIp, 0);
    assert.equal(config.cookieSameSite, 'Lax');
    assert.equal(config.cookieSecure, false);
    assert.equal(config.logLevel, 'warn');
  });

  test('loadConfig reads CORS_ORIGINS as a comma-separated list of origins', () => {
    const config = loadConfig({ CORS_ORIGINS: ' https://app.example , http://localhost:4200,' });
    assert.deepEqual(config.corsOrigins, ['https://app.example', 'http://localhost:4200']);
  });

  test('loadConfig reads TRUST_PROXY as a flag, a hop count or a list of addresses', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy, [
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
  });
});

describe('loadConfig errors', () => {
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

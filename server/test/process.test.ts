import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  freePort,
  killAll,
  type ServerProcess,
  spawnServer,
  startServer,
  waitFor,
  withTimeout,
} from './support/server-process.ts';
import { createTestDatabase } from './support/test-database.ts';

const PASSWORD = 'Tr0ub4dor & 3 cats, sailing';
const WRONG_PASSWORD = 'Definitely-Not-The-Password-93411';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  await killAll();
  for (const cleanup of cleanups) await cleanup();
});

/** A port and a fresh database for one test, with the environment to run the server on. */
async function serverEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const database = await createTestDatabase();
  cleanups.push(database.remove);
  return {
    PORT: String(await freePort()),
    ...database.env,
    COOKIE_SECURE: 'false',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

interface Tokens {
  token: string;
  refresh: string;
}

function refreshCookieOf(res: Response): string | undefined {
  for (const header of res.headers.getSetCookie()) {
    const match = /^latchkey_refresh=([^;]*)/.exec(header);
    if (match) return match[1];
  }
  return undefined;
}

async function postJson(
  server: ServerProcess,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

async function tokensOf(res: Response, expectedStatus: number): Promise<Tokens> {
  const text = await res.text();
  assert.equal(res.status, expectedStatus, text);
  const body = JSON.parse(text) as { auth_token?: string };
  const refresh = refreshCookieOf(res);
  assert.ok(typeof body.auth_token === 'string' && body.auth_token.length > 0, 'an auth_token');
  assert.ok(refresh, 'a refresh cookie');
  return { token: body.auth_token, refresh };
}

async function register(server: ServerProcess, email: string): Promise<Tokens> {
  return tokensOf(await postJson(server, '/auth/register', { email, password: PASSWORD }), 201);
}

async function logIn(server: ServerProcess, email: string, password = PASSWORD): Promise<Tokens> {
  return tokensOf(await postJson(server, '/auth/login', { email, password }), 200);
}

async function refresh(server: ServerProcess, cookie: string): Promise<Tokens> {
  const res = await postJson(server, '/auth/refresh', {}, { cookie: `latchkey_refresh=${cookie}` });
  return tokensOf(res, 200);
}

async function status(server: ServerProcess, token: string) {
  const res = await fetch(`${server.baseUrl}/auth/status`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as { data?: { email?: string } } };
}

async function jwksKids(server: ServerProcess): Promise<string[]> {
  const res = await fetch(`${server.baseUrl}/.well-known/jwks.json`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { keys: { kid: string }[] };
  return body.keys.map((k) => k.kid).sort();
}

/** The server's complete JSON log lines (a line still being written is left out). */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The reqId of the first login request the server logged. */
function loginIdOf(server: ServerProcess): unknown {
  return logLines(server.output()).find(
    (line) =>
      line['msg'] === 'incoming request' &&
      (line['req'] as { url?: string } | undefined)?.url === '/auth/login',
  )?.['reqId'];
}

/**
 * Starts a server with slow hashing, registers, starts a login (fetch keeps its connection alive,
 * as browsers do) and sends SIGTERM once the server has logged the login as incoming.
 */
async function sigtermDuringLogin(): Promise<{ server: ServerProcess; login: Promise<Tokens> }> {
  // More argon2 iterations make the login slow enough (a few hundred ms) to be caught in flight.
  const env = await serverEnv({ ARGON2_ITERATIONS: '40' });
  const email = 'graceful@example.com';
  const server = await startServer(env);
  await register(server, email);
  const login = logIn(server, email);
  login.catch(() => undefined);
  await waitFor(() => loginIdOf(server) !== undefined, 10_000, 'the login to reach the server');
  process.kill(server.pid, 'SIGTERM');
  return { server, login };
}

describe('the server process', () => {
  test('a restart on the same data keeps users, signing keys and refresh tokens valid', async () => {
    const env = await serverEnv();
    const email = 'restart@example.com';
    const first = await startServer(env);
    const before = await register(first, email);
    const kidsBefore = await jwksKids(first);
    assert.ok(kidsBefore.length > 0);
    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });

    const second = await startServer(env);
    const stat = await status(second, before.token);
    assert.equal(stat.status, 200, JSON.stringify(stat.body));
    assert.equal(stat.body.data?.email, email);
    const refreshed = await refresh(second, before.refresh);
    assert.notEqual(refreshed.refresh, before.refresh);
    assert.equal((await status(second, refreshed.token)).status, 200);
    await logIn(second, email);
    assert.deepEqual(await jwksKids(second), kidsBefore);
    assert.deepEqual(await second.stop('SIGTERM'), { code: 0, signal: null });
  });

  test('a SIGKILL right after a 201 register loses nothing', async () => {
    const env = await serverEnv();
    const email = 'killed@example.com';
    const first = await startServer(env);
    const registered = await register(first, email);
    assert.deepEqual(await first.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });

    const second = await startServer(env);
    const session = await logIn(second, email);
    assert.equal((await status(second, session.token)).status, 200);
    assert.equal((await status(second, registered.token)).status, 200);
    const refreshed = await refresh(second, registered.refresh);
    assert.equal((await status(second, refreshed.token)).status, 200);
    await second.stop('SIGTERM');
  });

  test('SIGTERM lets a login in flight finish with 200', async () => {
    const { server, login } = await sigtermDuringLogin();
    const session = await withTimeout(login, 10_000, 'the login in flight never answered');
    assert.ok(session.token.length > 0);

    // The login really was in flight: the shutdown began before it completed.
    await waitFor(
      () =>
        logLines(server.output()).some(
          (line) => line['msg'] === 'request completed' && line['reqId'] === loginIdOf(server),
        ),
      5_000,
      'the login to be logged as completed',
    );
    const lines = logLines(server.output());
    const shutdownAt = lines.findIndex((line) => String(line['msg']).startsWith('shutting down'));
    const completedAt = lines.findIndex(
      (line) => line['reqId'] === loginIdOf(server) && line['msg'] === 'request completed',
    );
    assert.ok(shutdownAt >= 0, 'the shutdown is logged');
    assert.ok(completedAt > shutdownAt, 'the login completed after the shutdown began');
    await server.stop('SIGKILL');
  });

  test('SIGTERM during a request from a keep-alive client exits 0 within 10 s', async () => {
    const { server, login } = await sigtermDuringLogin();
    await withTimeout(login, 10_000, 'the login in flight never answered');
    // Like `docker stop`: 10 s after SIGTERM the process would be killed.
    const exit = await withTimeout(
      server.exited,
      10_000,
      'the server was still running 10 s after SIGTERM',
    );
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('secrets never reach the logs', async () => {
    const env = await serverEnv();
    const email = 'logs@example.com';
    const server = await startServer(env);
    const registered = await register(server, email);
    assert.equal((await status(server, registered.token)).status, 200);
    const loggedIn = await logIn(server, email);
    const refreshed = await refresh(server, loggedIn.refresh);
    const failed = await postJson(server, '/auth/login', { email, password: WRONG_PASSWORD });
    assert.equal(failed.status, 401);
    await failed.body?.cancel();
    const logout = await postJson(
      server,
      '/auth/logout',
      {},
      {
        authorization: `Bearer ${refreshed.token}`,
        cookie: `latchkey_refresh=${refreshed.refresh}`,
      },
    );
    assert.equal(logout.status, 200);
    await logout.body?.cancel();
    const revoked = await status(server, refreshed.token);
    assert.equal(revoked.status, 401);
    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });

    const output = server.output();
    assert.match(output, /\/auth\/login/, 'the requests were logged');
    assert.match(output, /\/auth\/refresh/);
    const secrets: [string, string][] = [
      ['the password', PASSWORD],
      ['the wrong password', WRONG_PASSWORD],
      ['the access token from register', registered.token],
      ['the access token from login', loggedIn.token],
      ['the access token from refresh', refreshed.token],
      ['the refresh cookie from register', registered.refresh],
      ['the refresh cookie from login', loggedIn.refresh],
      ['the refresh cookie from refresh', refreshed.refresh],
    ];
    for (const [what, secret] of secrets) {
      assert.ok(!output.includes(secret), `${what} appears in the logs`);
    }
  });

  test('without KEY_ENCRYPTION_KEY the server warns at start-up; with it, it does not, and never logs it', async () => {
    const plain = await startServer(await serverEnv());
    const keyWarning = (server: ServerProcess) =>
      logLines(server.output()).some(
        (line) => line['level'] === 40 && String(line['msg']).includes('KEY_ENCRYPTION_KEY'),
      );
    assert.ok(keyWarning(plain), 'a warning names KEY_ENCRYPTION_KEY');
    await plain.stop('SIGTERM');

    const key = Buffer.alloc(32, 3).toString('base64');
    const sealed = await startServer(await serverEnv({ KEY_ENCRYPTION_KEY: key }));
    assert.ok(!keyWarning(sealed));
    await sealed.stop('SIGTERM');
    assert.ok(!sealed.output().includes(key), 'the key appears in the logs');
  });

  test('an invalid environment makes the process exit non-zero naming every bad variable', async () => {
    const env = await serverEnv({ ACCESS_TOKEN_TTL: 'abc', COOKIE_SAMESITE: 'sideways' });
    const server = spawnServer(env);
    const exit = await withTimeout(server.exited, 10_000, 'the server did not exit');
    assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
    assert.notEqual(exit.code, null, 'the process exits by itself, not by a signal');
    const output = server.output();
    assert.match(output, /ACCESS_TOKEN_TTL/);
    assert.match(output, /COOKIE_SAMESITE/);
  });
});

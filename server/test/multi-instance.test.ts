/**
 * Several Latchkey instances on one PostgreSQL database, as behind a load balancer: what one
 * instance does, the others see (revocations, throttling counts, signing keys), instances that
 * start together agree, a database restart is survived, and a killed instance loses nothing it
 * answered. PostgreSQL only: `npm test` runs this file on a throwaway cluster
 * (scripts/throwaway-postgres.ts); on SQLite every test here is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  startCluster,
  stopCluster,
  throwawayPostgresFromEnv,
} from '../../scripts/throwaway-postgres.ts';
import { createFreezableProxy } from './support/freezable-proxy.ts';
import {
  freePort,
  killAll,
  type ServerProcess,
  startServer,
  withTimeout,
} from './support/server-process.ts';
import {
  createTestApp,
  GOOD_PASSWORD,
  json,
  logIn,
  logoutWithBearer,
  refreshWith,
  registerUser,
  status,
  type TestApp,
  type TestClock,
  uniqueEmail,
} from './support/test-app.ts';
import {
  createTestDatabase,
  type TestDatabase,
  testEngine,
  testPostgresUrl,
} from './support/test-database.ts';

const SKIP =
  testEngine === 'postgresql'
    ? false
    : 'needs PostgreSQL: set LATCHKEY_TEST_DATABASE_URL (npm test starts a throwaway cluster for it)';

/** Revocations, rate limits and key rotation stamp real time here, as production does. */
const realTime: TestClock = {
  now: () => Date.now(),
  advance: () => {
    throw new Error('this test runs on real time');
  },
  set: () => {
    throw new Error('this test runs on real time');
  },
};

after(() => killAll());

/** A fresh database for one test, deleted when it ends (after its instances closed). */
async function freshDatabase(ctx: TestContext): Promise<TestDatabase> {
  const database = await createTestDatabase();
  ctx.after(() => database.remove());
  return database;
}

/**
 * One in-process instance on `database`, as main.ts builds it: its own store (its own pool) and
 * app; closed when the test ends.
 */
async function instance(
  ctx: TestContext,
  database: TestDatabase,
  env: Record<string, string> = {},
  storeEnv: Record<string, string> = {},
): Promise<TestApp> {
  const store = await database.open(storeEnv);
  const t = await createTestApp({ store, clock: realTime, env });
  ctx.after(async () => {
    await t.close();
    await store.close();
  });
  return t;
}

function login(t: TestApp, email: string, password: string, remoteAddress = '127.0.0.1') {
  return t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
    remoteAddress,
  });
}

function jwks(t: TestApp) {
  return t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
}

/**
 * Polls `probe` every 20 ms until it holds; fails after `timeoutMs`. The deadline only keeps a
 * hung test from holding up the run: how fast things happen is measured by the benchmarks
 * (bench/scenarios/scale-out.ts measures how long a revocation takes to reach another instance).
 */
async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const startedAt = performance.now();
  while (!(await probe())) {
    if (performance.now() - startedAt > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(20);
  }
}

/**
 * Far longer than a revocation takes to travel (REVOCATION_POLL_MS, 500 ms by default): only a
 * revocation that never arrives fails the wait.
 */
const REVOCATION_DEADLINE_MS = 10_000;

function assertUnavailable(res: LightMyRequestResponse, what: string): void {
  assert.equal(res.statusCode, 503, `${what}: ${res.statusCode} ${res.body}`);
  const body = json(res);
  assert.equal(body.status, 'fail', what);
  assert.equal(body.code, 'service_unavailable', what);
  assert.match(String(res.headers['retry-after']), /^\d+$/, `${what}: Retry-After`);
}

/** A test that hangs fails instead of holding up the run. */
const TEST_TIMEOUT_MS = 60_000;

describe(
  'several instances on one PostgreSQL database',
  { skip: SKIP, timeout: TEST_TIMEOUT_MS },
  () => {
    test('a logout on one instance is refused by another on the very next request', async (ctx) => {
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database);
      const b = await instance(ctx, database);
      const user = await registerUser(a.app);
      // B has verified the token once, so from now on it checks it from memory alone.
      assert.equal((await status(b.app, user.token)).statusCode, 200);

      assert.equal((await logoutWithBearer(a.app, user.token)).statusCode, 200);
      // No waiting: the answer came once B had applied it.
      const refused = await status(b.app, user.token);
      assert.equal(json(refused).code, 'token_revoked');
      assert.equal(json(await refreshWith(b.app, user.refresh)).code, 'invalid_refresh_token');
    });

    test('failed logins for one email are counted across instances', async (ctx) => {
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database);
      const b = await instance(ctx, database);
      const user = await registerUser(a.app);
      for (let i = 0; i < 5; i++) {
        const res = await login(i % 2 === 0 ? a : b, user.email, 'not the password at all');
        assert.equal(res.statusCode, 401, res.body);
      }
      for (const t of [a, b]) {
        const res = await login(t, user.email, GOOD_PASSWORD);
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(json(res).code, 'rate_limited');
      }
    });

    test('the per-IP limit is shared by every instance', async (ctx) => {
      const database = await freshDatabase(ctx);
      const env = { RATE_LIMIT_PER_IP: '4' };
      const a = await instance(ctx, database, env);
      const b = await instance(ctx, database, env);
      const ip = '127.0.0.9';
      for (const t of [a, b, a, b]) {
        const res = await login(t, uniqueEmail('ip'), GOOD_PASSWORD, ip);
        assert.equal(res.statusCode, 401, res.body);
      }
      for (const t of [a, b]) {
        const res = await login(t, uniqueEmail('ip'), GOOD_PASSWORD, ip);
        assert.equal(res.statusCode, 429, res.body);
        assert.equal(json(res).code, 'rate_limited');
      }
      // Another address still gets through.
      assert.equal(
        (await login(a, uniqueEmail('ip'), GOOD_PASSWORD, '127.0.0.10')).statusCode,
        401,
      );
    });

    test('instances share signing keys: a token from one is valid on the other, and the JWKS match', async (ctx) => {
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database);
      const b = await instance(ctx, database);
      const fromA = await registerUser(a.app);
      const fromB = await logIn(b.app, fromA.email);
      assert.equal((await status(b.app, fromA.token)).statusCode, 200);
      assert.equal((await status(a.app, fromB.token)).statusCode, 200);
      const [jwksA, jwksB] = [await jwks(a), await jwks(b)];
      assert.equal(jwksA.statusCode, 200);
      assert.deepEqual(jwksA.json(), jwksB.json());
      assert.equal((jwksA.json() as { keys: unknown[] }).keys.length, 1);
    });

    test('four instances starting at once on an empty database migrate it and agree on one key', async (ctx) => {
      const database = await freshDatabase(ctx);
      const instances = await Promise.all([1, 2, 3, 4].map(() => instance(ctx, database)));
      const keys = await (instances[0] as TestApp).store.listSigningKeys();
      assert.equal(keys.filter((k) => k.retiredAt === null).length, 1, JSON.stringify(keys));
      const sets = await Promise.all(instances.map(async (t) => (await jwks(t)).json()));
      for (const set of sets) assert.deepEqual(set, sets[0]);
      // Every instance accepts the tokens of every other.
      const user = await registerUser((instances[0] as TestApp).app);
      for (const t of instances) {
        const session = await logIn(t.app, user.email);
        for (const other of instances) {
          assert.equal((await status(other.app, session.token)).statusCode, 200);
        }
      }
    });

    test('concurrent registrations of one email on two instances give exactly one 201', async (ctx) => {
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database);
      const b = await instance(ctx, database);
      const email = uniqueEmail('race');
      const answers = await Promise.all(
        [a, b, a, b, a, b].map((t) =>
          t.app.inject({
            method: 'POST',
            url: '/auth/register',
            payload: { email, password: GOOD_PASSWORD },
          }),
        ),
      );
      const codes = answers.map((res) => res.statusCode).sort();
      assert.deepEqual(
        codes,
        [201, 409, 409, 409, 409, 409],
        answers.map((r) => r.body).join('\n'),
      );
      await logIn(b.app, email);
    });

    test('a database restart: requests answer 503 quickly, instances recover by themselves, nothing is lost', async (ctx) => {
      const cluster = throwawayPostgresFromEnv();
      if (cluster === undefined) {
        ctx.skip(
          'stops and starts the database: needs LATCHKEY_TEST_POSTGRES_DIR and LATCHKEY_TEST_POSTGRES_BIN of a throwaway cluster (npm test sets them)',
        );
        return;
      }
      const timeoutMs = 1000;
      const storeEnv = {
        DATABASE_STATEMENT_TIMEOUT_MS: String(timeoutMs),
        DATABASE_CONNECT_TIMEOUT_MS: String(timeoutMs),
      };
      // Every answer must come within twice the configured timeout.
      const boundMs = 2 * timeoutMs;
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database, {}, storeEnv);
      const b = await instance(ctx, database, {}, storeEnv);

      const alice = await registerUser(a.app);
      assert.equal((await status(b.app, alice.token)).statusCode, 200);
      const loggedOut = await registerUser(a.app);
      assert.equal((await logoutWithBearer(a.app, loggedOut.token)).statusCode, 200);
      await waitUntil(
        async () => (await status(b.app, loggedOut.token)).statusCode !== 200,
        REVOCATION_DEADLINE_MS,
        'B to see the logout made before the outage',
      );
      assert.equal(json(await status(b.app, loggedOut.token)).code, 'token_revoked');

      // Traffic on both instances through the whole restart: registrations on A, logins on B.
      const registered: string[] = [];
      /** Answers so far: 503s, and logins on B that succeeded. */
      const answers = { unavailable: 0, loggedIn: 0 };
      const slowest = { ms: 0, what: '' };
      const unexpected: string[] = [];
      let running = true;
      const timed = async (what: string, request: () => Promise<LightMyRequestResponse>) => {
        const startedAt = performance.now();
        const res = await request();
        const ms = performance.now() - startedAt;
        if (ms > slowest.ms) Object.assign(slowest, { ms, what: `${what} (${res.statusCode})` });
        if (res.statusCode === 503) answers.unavailable++;
        if (res.statusCode >= 500 && res.statusCode !== 503) {
          unexpected.push(`${what}: ${res.statusCode} ${res.body}`);
        }
        return res;
      };
      const traffic = (async () => {
        while (running) {
          const email = uniqueEmail('restart');
          const res = await timed('register on A', () =>
            a.app.inject({
              method: 'POST',
              url: '/auth/register',
              payload: { email, password: GOOD_PASSWORD },
            }),
          );
          if (res.statusCode === 201) registered.push(email);
          const loggedIn = await timed('login on B', () => login(b, alice.email, GOOD_PASSWORD));
          if (loggedIn.statusCode === 200) answers.loggedIn++;
          await sleep(10);
        }
      })();

      try {
        await stopCluster(cluster);
        try {
          for (const [name, t] of [
            ['A', a],
            ['B', b],
          ] as const) {
            const health = await timed(`health on ${name}`, () =>
              t.app.inject({ method: 'GET', url: '/health' }),
            );
            assert.equal(health.statusCode, 503, health.body);
            assert.deepEqual(health.json(), { status: 'unavailable' });
            assertUnavailable(
              await timed(`register on ${name}`, () =>
                t.app.inject({
                  method: 'POST',
                  url: '/auth/register',
                  payload: { email: uniqueEmail('down'), password: GOOD_PASSWORD },
                }),
              ),
              `register on ${name} while the database is down`,
            );
            assertUnavailable(
              await timed(`refresh on ${name}`, () => refreshWith(t.app, alice.refresh)),
              `refresh on ${name} while the database is down`,
            );
          }
          // The traffic loop, too, meets the stopped database (a few rounds of it).
          const unavailableSoFar = answers.unavailable;
          await waitUntil(
            async () => answers.unavailable >= unavailableSoFar + 4,
            10_000,
            'the traffic to be answered 503 while the database is down',
          );
        } finally {
          await startCluster(cluster);
        }

        // Both instances recover by themselves: no restart, no reconfiguration.
        for (const t of [a, b]) {
          await waitUntil(
            async () => (await t.app.inject({ method: 'GET', url: '/health' })).statusCode === 200,
            10_000,
            'the instance to report healthy again',
          );
        }
        // The traffic, too, succeeds again on both instances.
        const [registeredSoFar, loggedInSoFar] = [registered.length, answers.loggedIn];
        await waitUntil(
          async () => registered.length > registeredSoFar && answers.loggedIn > loggedInSoFar,
          10_000,
          'a registration on A and a login on B to succeed after the restart',
        );
      } finally {
        running = false;
        await withTimeout(traffic, 10_000, 'the traffic loop did not stop');
      }

      assert.deepEqual(unexpected, [], 'only 503s, never another 5xx');
      assert.ok(
        slowest.ms < boundMs,
        `slowest answer: ${slowest.what} after ${Math.round(slowest.ms)} ms`,
      );
      // Nothing answered before, during or after the outage is lost.
      assert.ok(registered.length > 0, 'some registrations succeeded around the outage');
      for (const email of registered) await logIn(b.app, email);
      assert.equal((await status(b.app, alice.token)).statusCode, 200);
      const refreshed = await refreshWith(b.app, alice.refresh);
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      // Revocations made before the outage are still in force, and new ones still travel.
      assert.equal(json(await status(b.app, loggedOut.token)).code, 'token_revoked');
      const bob = await registerUser(a.app);
      assert.equal((await status(b.app, bob.token)).statusCode, 200);
      assert.equal((await logoutWithBearer(a.app, bob.token)).statusCode, 200);
      await waitUntil(
        async () => (await status(b.app, bob.token)).statusCode !== 200,
        REVOCATION_DEADLINE_MS,
        'B to see a logout made after the outage',
      );
      assert.equal(json(await status(b.app, bob.token)).code, 'token_revoked');
    });

    test('killing an instance mid-traffic loses no registration it answered', async (ctx) => {
      const database = await freshDatabase(ctx);
      const [portA, portB] = [await freePort(), await freePort()];
      const env = {
        ...database.env,
        DATABASE_POOL_SIZE: '4',
        PUBLIC_URL: `http://127.0.0.1:${portA}`,
        RATE_LIMIT_PER_IP: '0',
        COOKIE_SECURE: 'false',
        LOG_LEVEL: 'warn',
      };
      const serverA = await startServer({ ...env, PORT: String(portA) });
      const serverB = await startServer({ ...env, PORT: String(portB) });
      ctx.after(() => serverB.stop('SIGTERM').catch(() => undefined));

      const answered: string[] = [];
      let attempted = 0;
      let killed = false;
      const register = async (server: ServerProcess) => {
        const email = uniqueEmail('killed');
        attempted++;
        try {
          const res = await fetch(`${server.baseUrl}/auth/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password: GOOD_PASSWORD }),
            signal: AbortSignal.timeout(10_000),
          });
          await res.body?.cancel();
          if (res.status === 201) answered.push(email);
          else if (!killed) assert.fail(`register answered ${res.status} before the kill`);
        } catch (error) {
          // A request cut by the kill gets no answer; any other failure is a real one.
          if (!killed) throw error;
        }
      };
      // Four clients registering in a loop on A until it is killed.
      const clients = [1, 2, 3, 4].map(async () => {
        while (!killed) await register(serverA);
      });
      const enough = async () => {
        while (answered.length < 20) await sleep(10);
      };
      await withTimeout(enough(), 30_000, 'A never answered 20 registrations');
      killed = true;
      assert.deepEqual(await serverA.stop('SIGKILL'), { code: null, signal: 'SIGKILL' });
      await withTimeout(Promise.all(clients), 15_000, 'the clients did not stop');
      assert.ok(attempted > answered.length, 'some requests were in flight at the kill');

      for (const email of answered) {
        const res = await fetch(`${serverB.baseUrl}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, password: GOOD_PASSWORD }),
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(res.status, 200, `${email}: ${await res.text()}`);
        await res.body?.cancel().catch(() => undefined);
      }
    });
  },
);

const STATEMENT_TIMEOUT_MS = 1000;
/** The revocation bound of the cut-off test, short to keep it quick. */
const FAIL_CLOSED_MS = 2000;
const CUT_OFF_ENV = {
  REVOCATION_FAIL_CLOSED_MS: String(FAIL_CLOSED_MS),
  REVOCATION_POLL_MS: '250',
};
const CONNECT_TIMEOUT_MS = 500;

/** An instance that reaches `database` through a proxy the test can freeze. */
async function instanceBehindProxy(
  ctx: TestContext,
  database: TestDatabase,
  env: Record<string, string> = {},
) {
  const proxy = await createFreezableProxy(Number(new URL(testPostgresUrl ?? '').port));
  ctx.after(() => proxy.close());
  const viaProxy = new URL(database.env['DATABASE_URL'] ?? '');
  viaProxy.port = String(proxy.port);
  const t = await instance(ctx, database, env, {
    DATABASE_URL: viaProxy.href,
    DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
  });
  return { t, proxy };
}

describe(
  'an instance whose database stops answering',
  { skip: SKIP, timeout: TEST_TIMEOUT_MS },
  () => {
    test('requests answer 503 within the timeouts while the link is frozen, and work again after', async (ctx) => {
      const database = await freshDatabase(ctx);
      const { t, proxy } = await instanceBehindProxy(ctx, database);
      const alice = await registerUser(t.app);
      assert.equal((await status(t.app, alice.token)).statusCode, 200);

      proxy.freeze();
      let answers: { what: string; res: LightMyRequestResponse; ms: number }[];
      try {
        const timed = async (what: string, request: () => Promise<LightMyRequestResponse>) => {
          const startedAt = performance.now();
          const res = await request();
          return { what, res, ms: performance.now() - startedAt };
        };
        const requests = Promise.all([
          timed('health', () => t.app.inject({ method: 'GET', url: '/health' })),
          timed('register', () =>
            t.app.inject({
              method: 'POST',
              url: '/auth/register',
              payload: { email: uniqueEmail('frozen'), password: GOOD_PASSWORD },
            }),
          ),
          timed('login', () => login(t, alice.email, GOOD_PASSWORD)),
          timed('refresh', () => refreshWith(t.app, alice.refresh)),
          timed('sessions', () =>
            t.app.inject({
              method: 'GET',
              url: '/auth/sessions',
              headers: { authorization: `Bearer ${alice.token}` },
            }),
          ),
          timed('status', () => status(t.app, alice.token)),
        ]);
        answers = await withTimeout(requests, 10_000, 'requests hung while the link was frozen');
      } finally {
        proxy.thaw();
      }
      const bound = 2 * STATEMENT_TIMEOUT_MS;
      for (const { what, res, ms } of answers) {
        assert.ok(ms < bound, `${what} answered after ${Math.round(ms)} ms`);
        if (what === 'health') {
          assert.equal(res.statusCode, 503, res.body);
          assert.deepEqual(res.json(), { status: 'unavailable' });
        } else if (what === 'status') {
          // A token already verified is checked from memory: no database needed.
          assert.equal(res.statusCode, 200, res.body);
        } else {
          assertUnavailable(res, `${what} while the database does not answer`);
        }
      }

      await waitUntil(
        async () => (await t.app.inject({ method: 'GET', url: '/health' })).statusCode === 200,
        10_000,
        'the instance to report healthy again',
      );
      await logIn(t.app, alice.email);
      await registerUser(t.app);
    });

    test('an instance cut off from the database refuses tokens after the bound; a logout elsewhere waits at most that long', async (ctx) => {
      const database = await freshDatabase(ctx);
      const a = await instance(ctx, database, CUT_OFF_ENV);
      const { t: b, proxy } = await instanceBehindProxy(ctx, database, CUT_OFF_ENV);
      const leaving = await registerUser(a.app);
      const staying = await registerUser(a.app);
      for (const user of [leaving, staying]) {
        assert.equal((await status(b.app, user.token)).statusCode, 200);
      }

      proxy.freeze();
      const frozenAt = performance.now();
      try {
        // Within the bound B still answers from memory.
        assert.equal((await status(b.app, staying.token)).statusCode, 200);
        const startedAt = performance.now();
        const logout = await logoutWithBearer(a.app, leaving.token);
        const waited = performance.now() - startedAt;
        assert.equal(logout.statusCode, 200, logout.body);
        // A waited for B's confirmation, which never came, for at most the bound (plus the
        // scheduling slack of a busy machine); B had stopped accepting tokens by then.
        assert.ok(waited < FAIL_CLOSED_MS + 1500, `the logout took ${Math.round(waited)} ms`);
        assert.ok(
          performance.now() - frozenAt >= FAIL_CLOSED_MS,
          'the logout answered before the bound although B never confirmed it',
        );
        for (const user of [leaving, staying]) {
          assertUnavailable(await status(b.app, user.token), 'a token on the cut-off instance');
        }
      } finally {
        proxy.thaw();
      }
      // Once B reaches the database it catches up from the log before accepting tokens again.
      await waitUntil(
        async () => (await status(b.app, staying.token)).statusCode === 200,
        REVOCATION_DEADLINE_MS,
        'B to accept tokens again once its database answers',
      );
      assert.equal(json(await status(b.app, leaving.token)).code, 'token_revoked');
    });
  },
);

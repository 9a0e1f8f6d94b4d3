import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  listSessions,
  logIn,
  logoutWithBearer,
  logoutWithCookie,
  refreshCookieOf,
  refreshWith,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
} from './support/test-app.ts';

const REVOKED_TOKEN = {
  status: 'fail',
  code: 'token_revoked',
  message: 'Token revoked. Please log in again.',
};
const EXPIRED_TOKEN = {
  status: 'fail',
  code: 'token_expired',
  message: 'Signature expired. Please log in again.',
};
const NEW_PASSWORD = 'purple elephant mountain river';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

/**
 * Another server instance on the same database and clock, closed when the test ends. Nothing in
 * the tests below waits or polls: a revocation's answer comes once every instance applied it, so
 * the very next request to any instance must be refused.
 */
async function secondInstance(ctx: TestContext): Promise<TestApp> {
  const other = await createTestApp({
    store: t.store,
    keepStore: true,
    clock: t.clock,
  });
  ctx.after(() => other.close());
  return other;
}

function assertRevoked(res: LightMyRequestResponse, what: string): void {
  assert.equal(res.statusCode, 401, `${what}: ${res.body}`);
  assert.deepEqual(json(res), REVOKED_TOKEN, what);
  assert.equal(res.headers['www-authenticate'], 'Bearer', what);
}

/** Every route that takes a bearer token, as requests a client would make with that token. */
function bearerRequests(app: FastifyInstance, token: string) {
  return {
    'GET /auth/status': () =>
      app.inject({ method: 'GET', url: '/auth/status', headers: bearer(token) }),
    'GET /auth/user': () =>
      app.inject({ method: 'GET', url: '/auth/user', headers: bearer(token) }),
    'GET /auth/sessions': () =>
      app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(token) }),
    'DELETE /auth/sessions': () =>
      app.inject({ method: 'DELETE', url: '/auth/sessions', headers: bearer(token) }),
    'DELETE /auth/sessions/:id': () =>
      app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${String(jwtClaims(token).sid)}`,
        headers: bearer(token),
      }),
    'POST /auth/password': () =>
      app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(token),
        payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
      }),
    'POST /auth/logout': () => logoutWithBearer(app, token),
  };
}

/** Asserts every bearer route refuses the token as revoked. */
async function assertTokenRevokedEverywhere(app: FastifyInstance, token: string): Promise<void> {
  for (const [route, send] of Object.entries(bearerRequests(app, token))) {
    assertRevoked(await send(), route);
  }
}

/**
 * A user with a session under attack (`victim`, holding two access tokens: the login's and a
 * refreshed one) and a second session of the same user (`bystander`).
 */
async function victimAndBystander(app: TestApp) {
  const login = await registerUser(app.app);
  const bystander = await logIn(app.app, login.email);
  app.clock.advance(1000);
  const refreshed = await refreshWith(app.app, login.refresh);
  assert.equal(refreshed.statusCode, 200);
  const victim: SignedIn & { tokens: string[] } = {
    ...login,
    token: String(json(refreshed).auth_token),
    refresh: refreshCookieOf(refreshed) ?? '',
    tokens: [login.token, String(json(refreshed).auth_token)],
  };
  for (const token of victim.tokens) assert.equal((await status(app.app, token)).statusCode, 200);
  return { victim, bystander, superseded: login.refresh };
}

type Victims = Awaited<ReturnType<typeof victimAndBystander>>;

const endings: {
  name: string;
  end: (app: TestApp, v: Victims) => Promise<LightMyRequestResponse>;
}[] = [
  {
    name: 'logout with a bearer token',
    end: (app, { victim }) => logoutWithBearer(app.app, victim.token),
  },
  {
    name: 'logout with the cookie alone',
    end: (app, { victim }) => logoutWithCookie(app.app, victim.refresh),
  },
  {
    name: 'deleting the session from another one',
    end: (app, { victim, bystander }) =>
      app.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${String(jwtClaims(victim.token).sid)}`,
        headers: bearer(bystander.token),
      }),
  },
  {
    name: 'deleting the current session',
    end: (app, { victim }) =>
      app.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${String(jwtClaims(victim.token).sid)}`,
        headers: bearer(victim.token),
      }),
  },
  {
    name: 'signing out the other sessions',
    end: (app, { bystander }) =>
      app.app.inject({ method: 'DELETE', url: '/auth/sessions', headers: bearer(bystander.token) }),
  },
  {
    name: 'a password change in another session',
    end: (app, { bystander }) =>
      app.app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(bystander.token),
        payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
      }),
  },
  {
    name: 'refresh-token reuse after the grace window',
    end: async (app, { superseded }) => {
      app.clock.advance(11_000);
      const res = await refreshWith(app.app, superseded);
      assert.equal(json(res).code, 'invalid_refresh_token');
      return res;
    },
  },
];

describe('revocation on one instance', () => {
  for (const { name, end } of endings) {
    test(`${name} revokes every access token of the session on the next request`, async () => {
      const victims = await victimAndBystander(t);
      const ended = await end(t, victims);
      assert.ok(ended.statusCode === 200 || ended.statusCode === 401, ended.body);
      for (const token of victims.victim.tokens) await assertTokenRevokedEverywhere(t.app, token);
      const refused = await refreshWith(t.app, victims.victim.refresh);
      assert.equal(refused.statusCode, 401);
      assert.equal(json(refused).code, 'invalid_refresh_token');
    });
  }

  test('a single logout leaves the user’s other sessions working', async () => {
    const first = await registerUser(t.app);
    const second = await logIn(t.app, first.email);
    const third = await logIn(t.app, first.email);
    assert.equal((await logoutWithBearer(t.app, first.token)).statusCode, 200);
    assertRevoked(await status(t.app, first.token), 'logged-out session');
    for (const session of [second, third]) {
      assert.equal((await status(t.app, session.token)).statusCode, 200);
      assert.equal((await refreshWith(t.app, session.refresh)).statusCode, 200);
    }
    assert.deepEqual(
      (await listSessions(t.app, second.token)).map((s) => s.id).sort(),
      [jwtClaims(second.token).sid, jwtClaims(third.token).sid].sort(),
    );
  });

  test('a logout leaves other users’ sessions working', async () => {
    const alice = await registerUser(t.app);
    const bob = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, alice.token)).statusCode, 200);
    assert.equal((await status(t.app, bob.token)).statusCode, 200);
  });

  test('a revoked token stays refused until it expires, then answers token_expired', async (ctx) => {
    const user = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    t.clock.advance(899_000);
    // The background work of those 15 minutes: revocation polls prune the in-memory list and
    // housekeeping prunes the database; neither may forget a revocation whose token still lives.
    await t.services.revocations.sync();
    await t.services.housekeeping.runOnce();
    await t.services.revocations.sync();
    assertRevoked(await status(t.app, user.token), 'revoked token near its expiry');
    const late = await secondInstance(ctx);
    assertRevoked(await status(late.app, user.token), 'instance started near the expiry');
    t.clock.advance(2000);
    await t.services.revocations.sync();
    await t.services.housekeeping.runOnce();
    for (const [app, what] of [
      [t.app, 'instance that revoked it'],
      [late.app, 'instance started later'],
    ] as const) {
      const expired = await status(app, user.token);
      assert.equal(expired.statusCode, 401, `${what}: ${expired.body}`);
      assert.deepEqual(json(expired), EXPIRED_TOKEN, what);
      assert.equal(expired.headers['www-authenticate'], 'Bearer', what);
    }
  });
});

describe('revocation across instances sharing the database', () => {
  test('a second instance refuses a token logged out on the first on the very next request', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    assert.equal((await status(other.app, user.token)).statusCode, 200);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    await assertTokenRevokedEverywhere(other.app, user.token);
  });

  test('a second instance refuses the cookie of a session ended on the first', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    const res = await refreshWith(other.app, user.refresh);
    assert.equal(res.statusCode, 401);
    assert.equal(json(res).code, 'invalid_refresh_token');
  });

  test('the first instance sees a session deleted on the second', async (ctx) => {
    const other = await secondInstance(ctx);
    const laptop = await registerUser(t.app);
    const phone = await logIn(t.app, laptop.email);
    assert.equal((await status(t.app, phone.token)).statusCode, 200);
    const res = await other.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${String(jwtClaims(phone.token).sid)}`,
      headers: bearer(laptop.token),
    });
    assert.equal(res.statusCode, 200);
    assertRevoked(await status(other.app, phone.token), 'instance that ended the session');
    await t.services.revocations.sync();
    assertRevoked(await status(t.app, phone.token), 'other instance');
    assert.equal((await status(t.app, laptop.token)).statusCode, 200);
  });

  test('a second instance refuses other sessions after a password change', async (ctx) => {
    const other = await secondInstance(ctx);
    const current = await registerUser(t.app);
    const elsewhere = await logIn(t.app, current.email);
    assert.equal((await status(other.app, elsewhere.token)).statusCode, 200);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: bearer(current.token),
      payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
    });
    assert.equal(res.statusCode, 200);
    assertRevoked(await status(other.app, elsewhere.token), 'second instance');
    assert.equal((await status(other.app, current.token)).statusCode, 200);
  });

  test('a second instance refuses a session ended by refresh-token reuse', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    const rotated = await refreshWith(t.app, user.refresh);
    assert.equal(rotated.statusCode, 200);
    const latest = String(json(rotated).auth_token);
    assert.equal((await status(other.app, latest)).statusCode, 200);
    t.clock.advance(11_000);
    assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 401);
    assertRevoked(await status(other.app, latest), 'second instance');
  });

  test('an instance started after a logout refuses the token at once', async (ctx) => {
    const user = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    const late = await secondInstance(ctx);
    assertRevoked(await status(late.app, user.token), 'instance started later');
  });
});

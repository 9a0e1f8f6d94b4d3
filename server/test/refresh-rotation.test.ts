import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  createTestApp,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  listSessions,
  logIn,
  refreshCookieOf,
  refreshSetCookieHeader,
  refreshWith,
  registerUser,
  setCookieAttributes,
  type SignedIn,
  status,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
const REFRESH_TTL_SECONDS = 14 * 86_400;
const REVOKED_TOKEN = {
  status: 'fail',
  code: 'token_revoked',
  message: 'Token revoked. Please log in again.',
};

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(() => t.close());

/** A second app with its own settings, closed when the test ends. */
async function appWith(ctx: TestContext, env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp({ env });
  ctx.after(() => app.close());
  return app;
}

/** A refresh as a browser would send it, with extra headers (Origin, Host, Content-Type). */
function refreshWithHeaders(
  app: TestApp,
  refresh: string,
  headers: Record<string, string>,
  payload = '{}',
) {
  return app.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    headers: { 'content-type': 'application/json', ...headers },
    cookies: { latchkey_refresh: refresh },
    payload,
  });
}

/** The tokens a successful refresh handed out. */
function rotated(res: LightMyRequestResponse, previous: SignedIn): SignedIn {
  assert.equal(res.statusCode, 200, res.body);
  const refresh = refreshCookieOf(res);
  assert.ok(refresh, 'the refresh sets a new cookie');
  return { ...previous, token: String(json(res).auth_token), refresh };
}

function assertInvalidRefresh(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 401, res.body);
  const body = json(res);
  assert.equal(body.status, 'fail');
  assert.equal(body.code, 'invalid_refresh_token');
  assert.equal(typeof body.message, 'string');
}

function assertCookieCleared(res: LightMyRequestResponse): void {
  const header = refreshSetCookieHeader(res);
  assert.ok(header, 'the refresh cookie is cleared');
  const cookie = setCookieAttributes(header);
  assert.equal(cookie.get('value'), '');
  assert.equal(cookie.get('max-age'), '0');
  assert.equal(cookie.get('path'), '/auth');
}

const cookieMaxAge = (res: LightMyRequestResponse) => {
  const header = refreshSetCookieHeader(res);
  assert.ok(header, 'a refresh cookie is set');
  return Number(setCookieAttributes(header).get('max-age'));
};

describe('refresh rotation', () => {
  test('refresh returns a new access token and a new cookie for the same session', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(SECOND_MS);
    const res = await refreshWith(t.app, user.refresh);
    const next = rotated(res, user);
    assert.notEqual(next.token, user.token);
    assert.notEqual(next.refresh, user.refresh);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(jwtClaims(next.token).sid, jwtClaims(user.token).sid);
    assert.equal(jwtClaims(next.token).sub, jwtClaims(user.token).sub);
    assert.equal((await status(t.app, next.token)).statusCode, 200);
  });

  test('refresh accepts the cookie it just set', async () => {
    const user = await registerUser(t.app);
    let current = user;
    const seen = new Set([user.refresh]);
    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(60 * SECOND_MS);
      current = rotated(await refreshWith(t.app, current.refresh), current);
      assert.equal(seen.has(current.refresh), false, 'every rotation yields a fresh cookie');
      seen.add(current.refresh);
    }
    assert.equal((await status(t.app, current.token)).statusCode, 200);
  });

  test('50 concurrent refreshes with one cookie all get the same new cookie, and the session does not fork', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(SECOND_MS);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => refreshWith(t.app, user.refresh)),
    );
    const successors = answers.map((res) => rotated(res, user));
    assert.equal(new Set(successors.map((s) => s.refresh)).size, 1, 'one successor cookie');
    const [successor] = successors;
    assert.ok(successor);
    assert.notEqual(successor.refresh, user.refresh);
    for (const { token } of successors) assert.equal((await status(t.app, token)).statusCode, 200);
    assert.equal((await listSessions(t.app, successor.token)).length, 1);

    // After the window the one chain goes on; the old cookie is now theft.
    t.clock.advance(11 * SECOND_MS);
    const next = rotated(await refreshWith(t.app, successor.refresh), successor);
    assert.equal((await status(t.app, next.token)).statusCode, 200);
    assertInvalidRefresh(await refreshWith(t.app, user.refresh));
    assertInvalidRefresh(await refreshWith(t.app, next.refresh));
  });

  test('the successor kept for concurrent refreshes is sealed: what the database holds is no cookie', async () => {
    const user = await registerUser(t.app);
    const next = rotated(await refreshWith(t.app, user.refresh), user);
    const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
    const stored = await t.store.findRefreshToken(hash(user.refresh));
    assert.ok(stored?.successor);
    assert.equal(stored.successor.includes(next.refresh), false);
    assertInvalidRefresh(await refreshWith(t.app, stored.successor));
    assertInvalidRefresh(await refreshWith(t.app, stored.successor.slice(0, 43)));
  });

  test('a superseded cookie within the grace window gets the session’s current cookie', async () => {
    const user = await registerUser(t.app);
    const next = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(2 * SECOND_MS);
    const newest = rotated(await refreshWith(t.app, next.refresh), next);
    t.clock.advance(3 * SECOND_MS);
    // A tab (or a retry after a lost answer) still holding the first cookie catches up to the
    // head of the chain, instead of starting a chain of its own.
    const late = rotated(await refreshWith(t.app, user.refresh), user);
    assert.equal(late.refresh, newest.refresh);
    assert.equal((await status(t.app, late.token)).statusCode, 200);
    assert.equal((await status(t.app, next.token)).statusCode, 200);
    assert.equal((await refreshWith(t.app, late.refresh)).statusCode, 200);
  });

  test('a copied cookie replayed within the window shares the owner’s chain, and is caught on the next old use', async () => {
    const owner = await registerUser(t.app);
    const stolen = owner.refresh;
    const ownerNext = rotated(await refreshWith(t.app, owner.refresh), owner);
    t.clock.advance(2 * SECOND_MS);
    const thief = rotated(await refreshWith(t.app, stolen), owner);
    assert.equal(thief.refresh, ownerNext.refresh, 'no second chain for the thief');
    // The owner goes on; later, the thief's copy is an old cookie: the session ends for both.
    t.clock.advance(20 * SECOND_MS);
    const ownerLater = rotated(await refreshWith(t.app, ownerNext.refresh), ownerNext);
    t.clock.advance(20 * SECOND_MS);
    assertInvalidRefresh(await refreshWith(t.app, thief.refresh));
    assert.deepEqual(json(await status(t.app, thief.token)), REVOKED_TOKEN);
    assert.deepEqual(json(await status(t.app, ownerLater.token)), REVOKED_TOKEN);
    assertInvalidRefresh(await refreshWith(t.app, ownerLater.refresh));
  });

  test('a password change ends a copied cookie’s session when it is another session', async () => {
    const owner = await registerUser(t.app);
    const elsewhere = await logIn(t.app, owner.email);
    const copy = elsewhere.refresh;
    rotated(await refreshWith(t.app, elsewhere.refresh), elsewhere);
    t.clock.advance(2 * SECOND_MS);
    const replayed = rotated(await refreshWith(t.app, copy), elsewhere);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: { authorization: `Bearer ${owner.token}` },
      payload: { current_password: GOOD_PASSWORD, new_password: 'purple elephant mountain river' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assertInvalidRefresh(await refreshWith(t.app, replayed.refresh));
    assert.deepEqual(json(await status(t.app, replayed.token)), REVOKED_TOKEN);
  });

  test('refresh rejects a superseded token after the grace window', async () => {
    const user = await registerUser(t.app);
    const other = await logIn(t.app, user.email);
    const next = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(11 * SECOND_MS);

    const reuse = await refreshWith(t.app, user.refresh);
    assertInvalidRefresh(reuse);
    assertCookieCleared(reuse);
    assert.equal(reuse.headers['cache-control'], 'no-store');

    assertInvalidRefresh(await refreshWith(t.app, next.refresh));
    assert.deepEqual(json(await status(t.app, next.token)), REVOKED_TOKEN);
    assert.deepEqual(json(await status(t.app, user.token)), REVOKED_TOKEN);
    assert.deepEqual(
      (await listSessions(t.app, other.token)).map((s) => s.id),
      [jwtClaims(other.token).sid],
      'the user’s other session lives on',
    );
  });

  test('refresh honours a configured REFRESH_REUSE_GRACE', async (ctx) => {
    const short = await appWith(ctx, { REFRESH_REUSE_GRACE: '2' });
    const user = await registerUser(short.app);
    const next = rotated(await refreshWith(short.app, user.refresh), user);
    short.clock.advance(1500);
    assert.equal((await refreshWith(short.app, user.refresh)).statusCode, 200);
    short.clock.advance(1000);
    assertInvalidRefresh(await refreshWith(short.app, user.refresh));
    assertInvalidRefresh(await refreshWith(short.app, next.refresh));
  });
});

describe('refresh sliding expiry', () => {
  test('refresh keeps a session refreshed every 10 days alive past 14 days', async () => {
    let user = await registerUser(t.app);
    for (let day = 10; day <= 20; day += 10) {
      t.clock.advance(10 * DAY_MS);
      user = rotated(await refreshWith(t.app, user.refresh), user);
    }
    t.clock.advance(9 * DAY_MS);
    user = rotated(await refreshWith(t.app, user.refresh), user);
    assert.equal((await status(t.app, user.token)).statusCode, 200);
  });

  test('refresh refuses every cookie of a session after SESSION_MAX_AGE since login', async () => {
    let user = await registerUser(t.app);
    t.clock.advance(10 * DAY_MS);
    user = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(10 * DAY_MS);
    user = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(9 * DAY_MS);
    user = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(DAY_MS + SECOND_MS);
    const res = await refreshWith(t.app, user.refresh);
    assertInvalidRefresh(res);
    assertCookieCleared(res);
  });

  test('refresh accepts a cookie unused for just under 14 days', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(14 * DAY_MS - SECOND_MS);
    assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 200);
  });

  test('refresh refuses a cookie unused for 14 days and 1 second', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(14 * DAY_MS + SECOND_MS);
    const res = await refreshWith(t.app, user.refresh);
    assertInvalidRefresh(res);
    assertCookieCleared(res);
  });

  test('refresh refuses a rotated cookie left unused for 14 days and 1 second', async () => {
    let user = await registerUser(t.app);
    t.clock.advance(5 * DAY_MS);
    user = rotated(await refreshWith(t.app, user.refresh), user);
    t.clock.advance(14 * DAY_MS + SECOND_MS);
    assertInvalidRefresh(await refreshWith(t.app, user.refresh));
  });

  test('refresh sets the cookie Max-Age to REFRESH_TOKEN_TTL', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(DAY_MS);
    assert.equal(cookieMaxAge(await refreshWith(t.app, user.refresh)), REFRESH_TTL_SECONDS);
  });

  test('refresh shrinks the cookie Max-Age so it never outlives the session max age', async () => {
    let user = await registerUser(t.app);
    t.clock.advance(10 * DAY_MS);
    let res = await refreshWith(t.app, user.refresh);
    assert.equal(cookieMaxAge(res), REFRESH_TTL_SECONDS);
    user = rotated(res, user);

    t.clock.advance(10 * DAY_MS);
    res = await refreshWith(t.app, user.refresh);
    assert.equal(cookieMaxAge(res), 10 * 86_400);
    user = rotated(res, user);

    t.clock.advance(9 * DAY_MS);
    res = await refreshWith(t.app, user.refresh);
    assert.equal(cookieMaxAge(res), 86_400);
    user = rotated(res, user);

    const [session] = await listSessions(t.app, user.token);
    assert.equal(Date.parse(session?.expires_at ?? ''), t.clock.now() + DAY_MS);
  });

  test('refresh sets the cookie Max-Age from a configured REFRESH_TOKEN_TTL', async (ctx) => {
    const custom = await appWith(ctx, { REFRESH_TOKEN_TTL: '3600' });
    const user = await registerUser(custom.app);
    custom.clock.advance(60 * SECOND_MS);
    const res = await refreshWith(custom.app, user.refresh);
    assert.equal(cookieMaxAge(res), 3600);
    const next = rotated(res, user);
    custom.clock.advance(3600 * SECOND_MS + SECOND_MS);
    assertInvalidRefresh(await refreshWith(custom.app, next.refresh));
  });

  test('register caps the cookie Max-Age at a short SESSION_MAX_AGE', async (ctx) => {
    const custom = await appWith(ctx, { SESSION_MAX_AGE: '7200' });
    const res = await custom.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: GOOD_PASSWORD },
    });
    assert.equal(res.statusCode, 201);
    assert.equal(cookieMaxAge(res), 7200);
  });
});

describe('refresh failures', () => {
  test('refresh without a cookie answers 401 and clears the cookie', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    assertInvalidRefresh(res);
    assertCookieCleared(res);
  });

  test('refresh with a garbage cookie answers 401 invalid_refresh_token', async () => {
    const garbage = [
      'garbage',
      'A'.repeat(43),
      '%',
      '%E0%A4%A',
      'x'.repeat(4000),
      '"quoted"',
      'a.b.c',
    ];
    for (const value of garbage) {
      const res = await refreshWith(t.app, value);
      assertInvalidRefresh(res);
      assertCookieCleared(res);
    }
  });

  test('refresh with the cookie of a logged-out session answers 401', async () => {
    const user = await registerUser(t.app);
    await t.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { authorization: `Bearer ${user.token}` },
    });
    assertInvalidRefresh(await refreshWith(t.app, user.refresh));
  });
});

describe('refresh CSRF defences', () => {
  test('refresh without a content type answers 415 and keeps the cookie usable', async () => {
    const user = await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      cookies: { latchkey_refresh: user.refresh },
    });
    assert.equal(res.statusCode, 415);
    assert.equal(json(res).code, 'unsupported_media_type');
    assert.equal(refreshCookieOf(res), undefined);
    assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 200);
  });

  test('refresh with a text/plain body answers 415 and keeps the cookie usable', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, { 'content-type': 'text/plain' });
    assert.equal(res.statusCode, 415);
    assert.equal(json(res).code, 'unsupported_media_type');
    assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 200);
  });

  test('refresh accepts an empty body sent as application/json', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, {}, '');
    assert.equal(res.statusCode, 200, res.body);
  });

  test('refresh accepts application/json with a charset parameter', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, {
      'content-type': 'application/json; charset=utf-8',
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  test('refresh from a foreign origin answers 403 origin_rejected', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, { origin: 'https://evil.example' });
    assert.equal(res.statusCode, 403);
    assert.equal(json(res).status, 'fail');
    assert.equal(json(res).code, 'origin_rejected');
    assert.equal(refreshCookieOf(res), undefined);
    assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 200);
  });

  test('refresh refuses Origin: null', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, { origin: 'null' });
    assert.equal(res.statusCode, 403);
    assert.equal(json(res).code, 'origin_rejected');
  });

  test('refresh refuses an origin that only shares the host name with another port', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, {
      host: 'auth.example.test:8443',
      origin: 'http://auth.example.test:9999',
    });
    assert.equal(res.statusCode, 403);
    assert.equal(json(res).code, 'origin_rejected');
  });

  test('refresh accepts the origin whose host is the request Host header', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWithHeaders(t, user.refresh, {
      host: 'auth.example.test:8443',
      origin: 'http://auth.example.test:8443',
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  test('refresh accepts an origin listed in CORS_ORIGINS', async (ctx) => {
    const cors = await appWith(ctx, {
      CORS_ORIGINS: 'https://app.example.com, https://admin.example.com',
    });
    const user = await registerUser(cors.app);
    const res = await refreshWithHeaders(cors, user.refresh, {
      origin: 'https://admin.example.com',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['access-control-allow-origin'], 'https://admin.example.com');
  });

  test('refresh accepts the origin of PUBLIC_URL', async (ctx) => {
    const app = await appWith(ctx, { PUBLIC_URL: 'https://auth.example.com' });
    const user = await registerUser(app.app);
    const res = await refreshWithHeaders(app, user.refresh, { origin: 'https://auth.example.com' });
    assert.equal(res.statusCode, 200, res.body);
  });

  test('refresh accepts a request without an Origin header, as curl sends it', async () => {
    const user = await registerUser(t.app);
    const res = await refreshWith(t.app, user.refresh);
    assert.equal(res.statusCode, 200, res.body);
  });
});

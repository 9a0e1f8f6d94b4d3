import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  createTestDatabase,
  GOOD_PASSWORD,
  json,
  registerUser,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

const WRONG_PASSWORD = 'not the right password at all';
const WINDOW_MS = 900_000;

/** A fresh app for one test, closed when the test ends. */
async function startApp(ctx: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp({ env });
  ctx.after(() => t.close());
  return t;
}

function login(
  t: TestApp,
  email: string,
  password: string,
  extra: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
    ...extra,
  });
}

function refresh(t: TestApp, extra: { remoteAddress?: string } = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    payload: '{}',
    ...extra,
  });
}

async function failLogins(t: TestApp, email: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await login(t, email, WRONG_PASSWORD);
    assert.equal(
      res.statusCode,
      401,
      `failed login ${i + 1} answered ${res.statusCode} ${res.body}`,
    );
    assert.equal(json(res).code, 'invalid_credentials');
  }
}

function retryAfterOf(res: LightMyRequestResponse): number {
  const raw = res.headers['retry-after'];
  assert.equal(typeof raw, 'string', 'a 429 carries a Retry-After header');
  assert.match(String(raw), /^\d+$/, 'Retry-After is a number of seconds');
  return Number(raw);
}

function assertRateLimited(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 429, `expected 429, got ${res.statusCode} ${res.body}`);
  const body = json(res);
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'status']);
  assert.equal(body.status, 'fail');
  assert.equal(body.code, 'rate_limited');
  assert.equal(typeof body.message, 'string');
  assert.ok(String(body.message).length > 0);
  assert.ok(retryAfterOf(res) >= 1);
}

describe('login throttling per email', () => {
  test('login after five failures answers 429 even with the correct password', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    await failLogins(t, user.email, 5);

    const res = await login(t, user.email, GOOD_PASSWORD);
    assertRateLimited(res);
    assert.equal(res.headers['set-cookie'], undefined, 'a refused login sets no refresh cookie');
    assert.ok(
      Math.abs(retryAfterOf(res) - 900) <= 1,
      `Retry-After ${retryAfterOf(res)} is about 900`,
    );
  });

  test('login throttle Retry-After counts down the rest of the window', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    await failLogins(t, user.email, 5);
    t.clock.advance(300_000);

    const res = await login(t, user.email, GOOD_PASSWORD);
    assertRateLimited(res);
    assert.ok(
      Math.abs(retryAfterOf(res) - 600) <= 1,
      `Retry-After ${retryAfterOf(res)} is about 600`,
    );
  });

  test('login honours LOGIN_MAX_FAILURES', async (ctx) => {
    const t = await startApp(ctx, { LOGIN_MAX_FAILURES: '2' });
    const user = await registerUser(t.app);
    await failLogins(t, user.email, 2);
    assertRateLimited(await login(t, user.email, GOOD_PASSWORD));
  });

  test('login throttles an unknown email exactly like a known one', async (ctx) => {
    const t = await startApp(ctx);
    const known = await registerUser(t.app);
    const unknown = uniqueEmail('nobody');
    await failLogins(t, known.email, 5);
    await failLogins(t, unknown, 5);

    const knownRes = await login(t, known.email, WRONG_PASSWORD);
    const unknownRes = await login(t, unknown, WRONG_PASSWORD);
    assertRateLimited(knownRes);
    assertRateLimited(unknownRes);
    assert.equal(unknownRes.statusCode, knownRes.statusCode);
    assert.equal(unknownRes.body, knownRes.body);
    assert.equal(unknownRes.headers['retry-after'], knownRes.headers['retry-after']);
  });

  test('login for another email is unaffected by a throttled one', async (ctx) => {
    const t = await startApp(ctx);
    const victim = await registerUser(t.app);
    const other = await registerUser(t.app);
    await failLogins(t, victim.email, 5);
    assertRateLimited(await login(t, victim.email, GOOD_PASSWORD));

    const res = await login(t, other.email, GOOD_PASSWORD);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).message, 'Successfully logged in.');
  });

  test('login failure count ignores the case of the email', async (ctx) => {
    const t = await startApp(ctx);
    const email = uniqueEmail('ada');
    await registerUser(t.app, email);
    const upper = email.replace('ada', 'Ada').replace('example.com', 'Example.COM');
    assert.notEqual(upper, email);
    await failLogins(t, upper, 3);
    await failLogins(t, email, 2);

    assertRateLimited(await login(t, email, GOOD_PASSWORD));
    assertRateLimited(await login(t, upper, GOOD_PASSWORD));
    assertRateLimited(await login(t, `  ${upper}  `, GOOD_PASSWORD));
  });

  test('login works again once the failure window has passed', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    await failLogins(t, user.email, 5);

    t.clock.advance(WINDOW_MS - 1_000);
    const before = await login(t, user.email, GOOD_PASSWORD);
    assertRateLimited(before);
    assert.equal(retryAfterOf(before), 1);

    t.clock.advance(1_000);
    const res = await login(t, user.email, GOOD_PASSWORD);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('login success before the limit resets the failure count', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    await failLogins(t, user.email, 4);
    assert.equal((await login(t, user.email, GOOD_PASSWORD)).statusCode, 200);
    await failLogins(t, user.email, 4);

    const allowed = await login(t, user.email, GOOD_PASSWORD);
    assert.equal(allowed.statusCode, 200, allowed.body);

    // The success reset the count again: five more failures are needed, then it is refused.
    await failLogins(t, user.email, 5);
    assertRateLimited(await login(t, user.email, GOOD_PASSWORD));
  });
});

describe('per-IP rate limit', () => {
  const LIMITED = { RATE_LIMIT_PER_IP: '3' };

  test('register from one IP answers 429 on the fourth request within a minute', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    for (let i = 0; i < 3; i++) await registerUser(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: GOOD_PASSWORD },
    });
    assertRateLimited(res);
    assert.ok(retryAfterOf(res) <= 60, `Retry-After ${retryAfterOf(res)} is within the minute`);
  });

  test('login from one IP answers 429 on the fourth request within a minute', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    const user = await registerUser(t.app);
    for (let i = 0; i < 3; i++) {
      assert.equal((await login(t, uniqueEmail('ghost'), WRONG_PASSWORD)).statusCode, 401);
    }
    const res = await login(t, user.email, GOOD_PASSWORD);
    assertRateLimited(res);
    assert.ok(retryAfterOf(res) <= 60);
  });

  test('refresh from one IP answers 429 on the fourth request within a minute', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    for (let i = 0; i < 3; i++) {
      const res = await refresh(t);
      assert.equal(res.statusCode, 401);
      assert.equal(json(res).code, 'invalid_refresh_token');
    }
    const res = await refresh(t);
    assertRateLimited(res);
    assert.ok(retryAfterOf(res) <= 60);
  });

  test('per-IP limit leaves another IP unaffected', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    const user = await registerUser(t.app);
    for (let i = 0; i < 3; i++) await login(t, uniqueEmail('ghost'), WRONG_PASSWORD);
    assertRateLimited(await login(t, user.email, GOOD_PASSWORD));

    const res = await login(t, user.email, GOOD_PASSWORD, { remoteAddress: '203.0.113.9' });
    assert.equal(res.statusCode, 200, res.body);
  });

  test('per-IP limit counts each route separately', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    for (let i = 0; i < 3; i++) await login(t, uniqueEmail('ghost'), WRONG_PASSWORD);
    assertRateLimited(await login(t, uniqueEmail('ghost'), WRONG_PASSWORD));

    const refreshRes = await refresh(t);
    assert.equal(refreshRes.statusCode, 401, refreshRes.body);
    assert.equal(json(refreshRes).code, 'invalid_refresh_token');
    const registerRes = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: GOOD_PASSWORD },
    });
    assert.equal(registerRes.statusCode, 201, registerRes.body);
  });

  test('per-IP limit resets after the minute has passed', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    const user = await registerUser(t.app, uniqueEmail(), GOOD_PASSWORD);
    for (let i = 0; i < 3; i++) await refresh(t);
    assertRateLimited(await refresh(t));
    for (let i = 0; i < 3; i++) await login(t, uniqueEmail('ghost'), WRONG_PASSWORD);
    assertRateLimited(await login(t, user.email, GOOD_PASSWORD));

    t.clock.advance(45_000);
    const later = await refresh(t);
    assertRateLimited(later);
    assert.ok(
      Math.abs(retryAfterOf(later) - 15) <= 1,
      `Retry-After ${retryAfterOf(later)} is about 15`,
    );

    t.clock.advance(15_000);
    assert.equal((await refresh(t)).statusCode, 401);
    const res = await login(t, user.email, GOOD_PASSWORD);
    assert.equal(res.statusCode, 200, res.body);
  });

  test('per-IP limit counts requests that fail validation', async (ctx) => {
    const t = await startApp(ctx, { RATE_LIMIT_PER_IP: '100' });
    const statuses: number[] = [];
    for (let i = 0; i < 101; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 1 } });
      statuses.push(res.statusCode);
    }
    assert.deepEqual(
      statuses.slice(0, 100).filter((s) => s !== 400),
      [],
      'the first 100 malformed logins are refused as invalid',
    );
    assert.equal(statuses[100], 429);
  });

  test('per-IP limit of 0 never answers 429', async (ctx) => {
    const t = await startApp(ctx, { RATE_LIMIT_PER_IP: '0' });
    const seen = new Set<number>();
    for (let i = 0; i < 120; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 1 } });
      seen.add(res.statusCode);
      seen.add((await refresh(t)).statusCode);
      const reg = await t.app.inject({ method: 'POST', url: '/auth/register', payload: {} });
      seen.add(reg.statusCode);
    }
    assert.deepEqual([...seen].sort(), [400, 401]);
  });

  test('per-IP limit ignores X-Forwarded-For without TRUST_PROXY', async (ctx) => {
    const t = await startApp(ctx, LIMITED);
    for (let i = 0; i < 3; i++) {
      const res = await login(t, uniqueEmail('ghost'), WRONG_PASSWORD, {
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
      });
      assert.equal(res.statusCode, 401);
    }
    const res = await login(t, uniqueEmail('ghost'), WRONG_PASSWORD, {
      headers: { 'x-forwarded-for': '198.51.100.200' },
    });
    assertRateLimited(res);
  });

  test('per-IP limit keys on X-Forwarded-For when TRUST_PROXY names the proxy', async (ctx) => {
    const t = await startApp(ctx, { ...LIMITED, TRUST_PROXY: '127.0.0.1' });
    const client = { headers: { 'x-forwarded-for': '198.51.100.7' } };
    for (let i = 0; i < 3; i++) {
      assert.equal((await login(t, uniqueEmail('ghost'), WRONG_PASSWORD, client)).statusCode, 401);
    }
    assertRateLimited(await login(t, uniqueEmail('ghost'), WRONG_PASSWORD, client));

    const otherClient = await login(t, uniqueEmail('ghost'), WRONG_PASSWORD, {
      headers: { 'x-forwarded-for': '198.51.100.8' },
    });
    assert.equal(otherClient.statusCode, 401, otherClient.body);
    // The proxy's own address (inject's 127.0.0.1) is not what is counted either.
    const direct = await login(t, uniqueEmail('ghost'), WRONG_PASSWORD);
    assert.equal(direct.statusCode, 401, direct.body);
  });
});

/** Counts answers by status: `{ 401: 5, 429: 195 }`. */
function statusCounts(answers: LightMyRequestResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of answers) counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
  return counts;
}

function changePassword(t: TestApp, token: string, current: string, next: string) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: bearer(token),
    payload: { current_password: current, new_password: next },
  });
}

describe('password guesses in parallel (reserve, then hash)', () => {
  test('200 parallel wrong logins for one email get at most 5 answers of 401, the rest 429', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => login(t, user.email, WRONG_PASSWORD)),
    );
    const counts = statusCounts(answers);
    assert.ok((counts[401] ?? 0) <= 5, JSON.stringify(counts));
    assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 200, JSON.stringify(counts));
    for (const res of answers.filter((r) => r.statusCode === 429)) assertRateLimited(res);
    // The guesses are spent: even the right password waits for the window.
    assertRateLimited(await login(t, user.email, GOOD_PASSWORD));
  });

  test('parallel wrong logins spread over two instances share one limit', async (ctx) => {
    const database = await createTestDatabase();
    const a = await createTestApp({ store: await database.open() });
    const b = await createTestApp({ store: await database.open() });
    ctx.after(async () => {
      await a.close();
      await b.close();
      await a.store.close();
      await b.store.close();
      await database.remove();
    });
    const user = await registerUser(a.app);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(i % 2 === 0 ? a : b, user.email, WRONG_PASSWORD)),
    );
    const counts = statusCounts(answers);
    assert.ok((counts[401] ?? 0) <= 5, JSON.stringify(counts));
    assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 100, JSON.stringify(counts));
  });

  test('150 parallel guesses of current_password with a stolen token: at most 5 are checked', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const answers = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        changePassword(t, user.token, `guess number ${i} of the attacker`, 'attacker password'),
      ),
    );
    const counts = statusCounts(answers);
    assert.ok((counts[401] ?? 0) <= 5, JSON.stringify(counts));
    assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 150, JSON.stringify(counts));
    // The guesses count against the account, as on login: the right password waits too, and
    // works again once the window has passed.
    assertRateLimited(await changePassword(t, user.token, user.password, 'attacker password'));
    t.clock.advance(WINDOW_MS + 1000);
    assert.equal((await login(t, user.email, user.password)).statusCode, 200);
  });

  test('POST /auth/password counts towards the per-IP limit', async (ctx) => {
    const t = await startApp(ctx, { RATE_LIMIT_PER_IP: '3' });
    const user = await registerUser(t.app);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(await changePassword(t, user.token, `wrong guess ${i}`, 'another new password'));
    }
    assert.deepEqual(
      answers.map((r) => r.statusCode),
      [401, 401, 401, 429],
    );
    assertRateLimited(answers[3] as LightMyRequestResponse);
  });

  test('of 20 parallel password changes with the right current password exactly one succeeds', async (ctx) => {
    const t = await startApp(ctx, { LOGIN_MAX_FAILURES: '100' });
    const user = await registerUser(t.app);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        changePassword(t, user.token, user.password, `new password number ${i} here`),
      ),
    );
    const counts = statusCounts(answers);
    assert.deepEqual(counts, { 200: 1, 401: 19 }, JSON.stringify(counts));
    for (const res of answers.filter((r) => r.statusCode === 401)) {
      assert.equal(json(res).code, 'invalid_credentials');
    }
    // The winner's password is the account's, and the session that made it keeps working.
    const winner = answers.findIndex((r) => r.statusCode === 200);
    assert.equal(
      (await login(t, user.email, `new password number ${winner} here`)).statusCode,
      200,
    );
    const status = await t.app.inject({
      method: 'GET',
      url: '/auth/status',
      headers: bearer(user.token),
    });
    assert.equal(status.statusCode, 200);
  });
});

/** The device cookie a login set (its value), or undefined. */
function deviceCookieOf(res: LightMyRequestResponse): string | undefined {
  return res.cookies.find((c) => c.name === 'latchkey_device')?.value;
}

function loginWithDevice(t: TestApp, email: string, password: string, device: string) {
  return t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
    cookies: { latchkey_device: device },
  });
}

describe('device cookies: lockout cannot be turned against the owner', () => {
  test('a login sets an HttpOnly device cookie for a year, with the refresh cookie attributes', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const res = await login(t, user.email, user.password);
    assert.equal(res.statusCode, 200);
    const raw = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((h) => h.startsWith('latchkey_device='));
    assert.ok(raw !== undefined, 'a device cookie is set');
    assert.match(raw, /; Max-Age=31536000/);
    assert.match(raw, /; Path=\/auth/);
    assert.match(raw, /; HttpOnly/);
    assert.match(raw, /; Secure/);
    assert.match(raw, /; SameSite=Strict/);
    assert.match(String(deviceCookieOf(res)), /^[\w-]{43}$/);
  });

  test("a stranger's five failures lock out the email, but not the owner's browser", async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const device = deviceCookieOf(await login(t, user.email, user.password));
    assert.ok(device !== undefined);
    await failLogins(t, user.email, 5);
    assertRateLimited(await login(t, user.email, user.password));
    // A made-up cookie is no way around the lock.
    assertRateLimited(await loginWithDevice(t, user.email, user.password, 'x'.repeat(43)));
    // The owner's browser, with its device cookie and the right password, signs in.
    const owner = await loginWithDevice(t, user.email, user.password, device);
    assert.equal(owner.statusCode, 200, owner.body);
    // Nor is a device cookie of another account.
    const other = await registerUser(t.app);
    const otherDevice = deviceCookieOf(await login(t, other.email, other.password));
    assert.ok(otherDevice !== undefined);
    // The owner's success cleared the email's count: lock it again first.
    await failLogins(t, user.email, 5);
    assertRateLimited(await loginWithDevice(t, user.email, user.password, otherDevice));
  });

  test('a device cookie has its own limit, then it is spent', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const device = deviceCookieOf(await login(t, user.email, user.password));
    assert.ok(device !== undefined);
    for (let i = 0; i < 5; i++) {
      const res = await loginWithDevice(t, user.email, WRONG_PASSWORD, device);
      assert.equal(res.statusCode, 401, res.body);
    }
    // Spent: the sixth attempt counts against the email like a login without the cookie, and
    // once the email is locked too, the cookie no longer lets the right password in.
    await failLogins(t, user.email, 5);
    assertRateLimited(await loginWithDevice(t, user.email, user.password, device));
  });

  test('50 parallel wrong guesses with one device cookie: at most 5 through it and 5 through the email', async (ctx) => {
    const t = await startApp(ctx);
    const user = await registerUser(t.app);
    const device = deviceCookieOf(await login(t, user.email, user.password));
    assert.ok(device !== undefined);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => loginWithDevice(t, user.email, WRONG_PASSWORD, device)),
    );
    const counts = statusCounts(answers);
    assert.ok((counts[401] ?? 0) <= 10, JSON.stringify(counts));
    assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), 50, JSON.stringify(counts));
  });
});

/**
 * The admin API and the audit log (v2 contract, "accounts for operators"): who may call it,
 * disabling and deleting accounts with effect on every instance at once, no locking oneself out,
 * paging that holds while users are added, an event for every flow with no secret in it, events
 * written in the change's own transaction, and retention.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  createTestDatabase,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  logIn,
  logoutWithBearer,
  refreshWith,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
  testEngine,
  uniqueEmail,
} from './support/test-app.ts';

const NEW_PASSWORD = 'purple elephant mountain river';

let t: TestApp;
let root: SignedIn;
beforeEach(async () => {
  t = await createTestApp();
  root = await makeAdmin(t);
});
afterEach(() => t.close());

async function makeAdmin(app: TestApp): Promise<SignedIn> {
  const email = uniqueEmail('admin');
  await app.services.admin.createAdmin(email, GOOD_PASSWORD);
  return logIn(app.app, email);
}

async function secondInstance(ctx: TestContext): Promise<TestApp> {
  const other = await createTestApp({ store: t.store, keepStore: true, clock: t.clock });
  ctx.after(() => other.close());
  return other;
}

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string, payload?: object) =>
  t.app.inject({
    method,
    url,
    headers: token === undefined ? {} : bearer(token),
    ...(payload === undefined ? {} : { payload }),
  });

const idOf = (user: SignedIn): string => String(jwtClaims(user.token).sub);

function assertCode(res: LightMyRequestResponse, statusCode: number, code: string): void {
  assert.equal(res.statusCode, statusCode, res.body);
  assert.equal(json(res).code, code);
}

describe('who may use /admin', () => {
  test('every admin route answers 401 without a token and 403 forbidden to a non-admin', async () => {
    const user = await registerUser(t.app);
    const id = idOf(user);
    const routes: ['GET' | 'POST' | 'DELETE', string, object?][] = [
      ['GET', '/admin/users'],
      ['GET', `/admin/users/${id}`],
      ['POST', `/admin/users/${id}/disable`],
      ['POST', `/admin/users/${id}/enable`],
      ['POST', `/admin/users/${id}/admin`, { admin: true }],
      ['DELETE', `/admin/users/${id}/sessions`],
      ['DELETE', `/admin/users/${id}`],
      ['GET', '/admin/events'],
    ];
    for (const [method, url, body] of routes) {
      assertCode(await call(method, url, undefined, body), 401, 'missing_token');
      const refused = await call(method, url, user.token, body);
      assertCode(refused, 403, 'forbidden');
      assert.equal(refused.headers['cache-control'], 'no-store');
    }
    assert.equal((await status(t.app, user.token)).statusCode, 200, 'nothing happened');
  });

  test('a removed admin is refused at once; a granted one is let in at once', async () => {
    const other = await makeAdmin(t);
    assert.equal((await call('GET', '/admin/users', other.token)).statusCode, 200);
    const demoted = await call('POST', `/admin/users/${idOf(other)}/admin`, root.token, {
      admin: false,
    });
    assert.equal(demoted.statusCode, 200, demoted.body);
    assertCode(await call('GET', '/admin/users', other.token), 403, 'forbidden');
    await call('POST', `/admin/users/${idOf(other)}/admin`, root.token, { admin: true });
    assert.equal((await call('GET', '/admin/users', other.token)).statusCode, 200);
    assert.equal(json(await status(t.app, other.token)).data && true, true);
  });

  test('an admin cannot disable, demote or delete their own account', async () => {
    const self = idOf(root);
    for (const [method, url, body] of [
      ['POST', `/admin/users/${self}/disable`, undefined],
      ['POST', `/admin/users/${self}/admin`, { admin: false }],
      ['DELETE', `/admin/users/${self}`, undefined],
    ] as const) {
      assertCode(await call(method, url, root.token, body), 400, 'validation_failed');
    }
    assert.equal((await call('GET', '/admin/users', root.token)).statusCode, 200);
  });

  test('unknown and malformed ids are 404, bad limits and cursors 400', async () => {
    for (const id of [crypto.randomUUID(), 'nope', '1'.repeat(64)]) {
      assertCode(await call('GET', `/admin/users/${id}`, root.token), 404, 'not_found');
      assertCode(await call('POST', `/admin/users/${id}/disable`, root.token), 404, 'not_found');
    }
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=bogus', 'cursor=%00']) {
      assertCode(await call('GET', `/admin/users?${query}`, root.token), 400, 'validation_failed');
      assertCode(await call('GET', `/admin/events?${query}`, root.token), 400, 'validation_failed');
    }
  });
});

describe('disable, enable, delete', () => {
  test('a disabled account is out at once on every instance; the right password says account_disabled', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    const second = await logIn(other.app, user.email);
    assert.equal((await status(other.app, user.token)).statusCode, 200);
    const res = await call('POST', `/admin/users/${idOf(user)}/disable`, root.token);
    assert.equal(res.statusCode, 200, res.body);
    for (const app of [t.app, other.app]) {
      for (const session of [user, second]) {
        assertCode(await status(app, session.token), 401, 'token_revoked');
      }
    }
    assertCode(await refreshWith(other.app, second.refresh), 401, 'invalid_refresh_token');
    const login = (password: string) =>
      t.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: user.email, password },
      });
    assertCode(await login(GOOD_PASSWORD), 403, 'account_disabled');
    assertCode(await login('a wrong password, surely'), 401, 'invalid_credentials');
    const listed = json(await call('GET', `/admin/users/${idOf(user)}`, root.token)).data as Record<
      string,
      unknown
    >;
    assert.equal(listed['disabled'], true);
    assert.deepEqual(listed['sessions'], []);

    assert.equal(
      (await call('POST', `/admin/users/${idOf(user)}/enable`, root.token)).statusCode,
      200,
    );
    assert.equal((await login(GOOD_PASSWORD)).statusCode, 200);
  });

  test('a deleted account is gone at once on every instance, and its email can register again', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    assert.equal((await status(other.app, user.token)).statusCode, 200);
    assert.equal((await call('DELETE', `/admin/users/${idOf(user)}`, root.token)).statusCode, 200);
    assert.equal((await status(other.app, user.token)).statusCode, 401);
    assert.equal((await refreshWith(other.app, user.refresh)).statusCode, 401);
    assertCode(await call('GET', `/admin/users/${idOf(user)}`, root.token), 404, 'not_found');
    const again = await registerUser(t.app, user.email);
    assert.notEqual(idOf(again), idOf(user));
    // Its history stays in the audit log.
    const events = json(await call('GET', `/admin/events?user_id=${idOf(user)}`, root.token))
      .data as { type: string }[];
    assert.ok(events.some((e) => e.type === 'account_deleted'));
  });

  test('signing out everywhere ends every session of the user at once and says how many', async (ctx) => {
    const other = await secondInstance(ctx);
    const user = await registerUser(t.app);
    const second = await logIn(t.app, user.email);
    const res = await call('DELETE', `/admin/users/${idOf(user)}/sessions`, root.token);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual((json(res).data as Record<string, unknown>)['ended'], 2);
    for (const session of [user, second]) {
      assertCode(await status(other.app, session.token), 401, 'token_revoked');
    }
    assert.equal((await logIn(t.app, user.email)).token.length > 0, true, 'may sign in again');
  });
});

describe('listing users', () => {
  test('query matches part of the email, case-insensitively, and wildcards are literal', async () => {
    const tag = `Find${process.pid}x`;
    await registerUser(t.app, `a.${tag.toLowerCase()}@example.com`);
    await registerUser(t.app, `b_${tag.toLowerCase()}@example.com`);
    await registerUser(t.app, uniqueEmail('other'));
    const found = (q: string) =>
      call('GET', `/admin/users?query=${encodeURIComponent(q)}`, root.token).then((res) =>
        (json(res).data as { email: string }[]).map((u) => u.email),
      );
    assert.equal((await found(tag.toUpperCase())).length, 2);
    assert.deepEqual(await found(`b_${tag}`), [`b_${tag.toLowerCase()}@example.com`]);
    assert.deepEqual(await found('%'), []);
  });

  test('paging while users are added: no duplicates, no gaps', async () => {
    for (let i = 0; i < 15; i++) await registerUser(t.app, uniqueEmail('page'));
    const before = (
      json(await call('GET', '/admin/users?limit=100', root.token)).data as { user_id: string }[]
    ).map((u) => u.user_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/admin/users?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`;
      const res = await call('GET', url, root.token);
      assert.equal(res.statusCode, 200, res.body);
      const body = json(res);
      seen.push(...(body.data as { user_id: string }[]).map((u) => u.user_id));
      cursor = body['next_cursor'] as string | null;
      // Others sign up meanwhile, some in the same millisecond as the last user seen.
      await Promise.all(Array.from({ length: 3 }, () => registerUser(t.app, uniqueEmail('late'))));
      t.clock.advance(pages % 2);
      pages++;
    } while (cursor !== null && pages < 100);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    for (const id of before) assert.ok(seen.includes(id), 'no gaps');
  });
});

describe('the audit log', () => {
  test('every flow writes its event, with no secret in any field', async () => {
    const user = await registerUser(t.app);
    const userId = idOf(user);
    await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: 'wrong password here' },
    });
    const second = await logIn(t.app, user.email);
    const third = await logIn(t.app, user.email);
    await call('DELETE', `/auth/sessions/${String(jwtClaims(third.token).sid)}`, second.token);
    const changed = await call('POST', '/auth/password', second.token, {
      current_password: GOOD_PASSWORD,
      new_password: NEW_PASSWORD,
    });
    assert.equal(changed.statusCode, 200);
    await logoutWithBearer(t.app, second.token);
    const again = await logIn(t.app, user.email, NEW_PASSWORD);
    const rotated = await refreshWith(t.app, again.refresh);
    assert.equal(rotated.statusCode, 200);
    t.clock.advance(60_000);
    await refreshWith(t.app, again.refresh); // reuse
    await t.app.inject({
      method: 'POST',
      url: '/auth/password/forgot',
      payload: { email: user.email },
    });
    await t.services.emailFlows.settle();
    await call('POST', `/admin/users/${userId}/admin`, root.token, { admin: true });
    await call('POST', `/admin/users/${userId}/disable`, root.token);
    await call('POST', `/admin/users/${userId}/enable`, root.token);
    await call('DELETE', `/admin/users/${userId}`, root.token);

    const res = await call('GET', `/admin/events?user_id=${userId}&limit=100`, root.token);
    assert.equal(res.statusCode, 200, res.body);
    const events = json(res).data as {
      type: string;
      actor_id: string | null;
      detail: Record<string, unknown>;
    }[];
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'registered',
      'login_failed',
      'login_succeeded',
      'session_ended',
      'password_changed',
      'logged_out',
      'refresh_token_reused',
      'password_reset_requested',
      'role_changed',
      'account_disabled',
      'account_enabled',
      'account_deleted',
    ]) {
      assert.ok(types.has(type), `${type} is in the log (got ${[...types].join(', ')})`);
    }
    assert.equal(events.find((e) => e.type === 'login_failed')?.detail['reason'], 'bad_password');
    assert.equal(events.find((e) => e.type === 'account_disabled')?.actor_id, idOf(root));
    const logged = res.body;
    for (const secret of [
      GOOD_PASSWORD,
      NEW_PASSWORD,
      user.token,
      user.refresh,
      again.refresh,
      again.token,
      'token=',
    ]) {
      assert.ok(!logged.includes(secret), 'no secret in the audit log');
    }
    const byType = json(await call('GET', '/admin/events?type=account_deleted', root.token))
      .data as { user_id: string }[];
    assert.ok(byType.every((e) => typeof e.user_id === 'string'));
    assert.ok(byType.some((e) => e.user_id === userId));
  });

  test('GET /auth/events lists the caller’s own events only, newest first, paged', async () => {
    const user = await registerUser(t.app);
    const other = await registerUser(t.app);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      await logIn(t.app, user.email);
    }
    const first = await call('GET', '/auth/events?limit=2', user.token);
    assert.equal(first.statusCode, 200, first.body);
    const page1 = json(first);
    const data = page1.data as { type: string; user_id: string; created_at: string }[];
    assert.equal(data.length, 2);
    assert.ok(data.every((e) => e.user_id === idOf(user)));
    assert.ok(Date.parse(data[0]?.created_at ?? '') >= Date.parse(data[1]?.created_at ?? ''));
    const next = json(
      await call('GET', `/auth/events?limit=10&cursor=${String(page1['next_cursor'])}`, user.token),
    );
    const rest = next.data as { type: string; user_id: string }[];
    assert.equal(rest.length, 2, 'one more login and the registration');
    assert.equal(rest.at(-1)?.type, 'registered');
    assert.equal(next['next_cursor'], null);
    const mine = json(await call('GET', '/auth/events', other.token)).data as { user_id: string }[];
    assert.ok(mine.every((e) => e.user_id === idOf(other)));
  });

  test('events older than AUDIT_RETENTION_DAYS are deleted by housekeeping', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(91 * 86_400_000);
    await logIn(t.app, user.email);
    await t.services.housekeeping.runOnce();
    const events = json(await call('GET', '/auth/events', (await logIn(t.app, user.email)).token))
      .data as { type: string }[];
    assert.ok(!events.some((e) => e.type === 'registered'), 'the 91-day-old registration is gone');
    assert.ok(events.some((e) => e.type === 'login_succeeded'));
  });

  test(
    'a change and its event commit together: when the event cannot be written, nothing changes',
    { skip: testEngine === 'sqlite' ? false : 'the trigger is written for SQLite' },
    async (ctx) => {
      const database = await createTestDatabase();
      const store = await database.open();
      const app = await createTestApp({ store });
      ctx.after(async () => {
        await app.close();
        await store.close();
        await database.remove();
      });
      const user = await registerUser(app.app);
      // Another process's view of the same file: make every audit insert fail from now on.
      const raw = new DatabaseSync(join(database.env['DATA_DIR'] ?? '', 'latchkey.sqlite'));
      raw.exec(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END",
      );
      raw.close();
      const email = uniqueEmail('nochange');
      const registered = await app.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email, password: GOOD_PASSWORD },
      });
      assert.equal(registered.statusCode, 500);
      assert.equal(
        await app.store.findUserByEmail(email),
        undefined,
        'no account without its event',
      );
      const hashBefore = (await app.store.findUserByEmail(user.email))?.passwordHash;
      const changed = await app.app.inject({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(user.token),
        payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
      });
      assert.equal(changed.statusCode, 500);
      assert.equal(
        (await app.store.findUserByEmail(user.email))?.passwordHash,
        hashBefore,
        'no password change without its event',
      );
      const loggedOut = await logoutWithBearer(app.app, user.token);
      assert.equal(loggedOut.statusCode, 500);
      assert.equal(
        (await status(app.app, user.token)).statusCode,
        200,
        'no logout without its event',
      );
    },
  );
});

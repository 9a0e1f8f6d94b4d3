/**
 * Security events reach the log as structured lines with their subject (user id, session id,
 * client IP) and a reason, and never with a secret or the email a client typed.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import {
  bearer,
  createTestApp,
  GOOD_PASSWORD,
  jwtClaims,
  logIn,
  logoutWithBearer,
  refreshWith,
  refreshCookieOf,
  registerUser,
  type TestApp,
} from './support/test-app.ts';

const NEW_PASSWORD = 'purple elephant mountain river';
const WRONG_PASSWORD = 'not the password at all, sorry';

let t: TestApp;
let lines: Record<string, unknown>[];
beforeEach(async () => {
  lines = [];
  t = await createTestApp({ logLines: lines, env: { LOGIN_MAX_FAILURES: '2' } });
});
afterEach(() => t.close());

const events = () =>
  lines
    .filter((line) => typeof line['security_event'] === 'string')
    .map((line) => ({
      type: line['security_event'],
      user_id: line['user_id'] ?? null,
      session_id: line['session_id'],
      ip: line['ip'],
      reason: line['reason'],
    }));

const login = (email: string, password: string) =>
  t.app.inject({
    method: 'POST',
    url: '/auth/login',
    remoteAddress: '203.0.113.7',
    payload: { email, password },
  });

test('each security event is one log line naming its user, session, IP and reason', async () => {
  const user = await registerUser(t.app);
  const userId = jwtClaims(user.token).sub;
  const first = jwtClaims(user.token).sid;
  assert.equal((await login(user.email, WRONG_PASSWORD)).statusCode, 401);
  assert.equal((await login('nobody@example.com', WRONG_PASSWORD)).statusCode, 401);
  const second = await logIn(t.app, user.email);
  const secondSid = jwtClaims(second.token).sid;
  const changed = await t.app.inject({
    method: 'POST',
    url: '/auth/password',
    headers: bearer(second.token),
    payload: { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD },
  });
  assert.equal(changed.statusCode, 200, changed.body);
  assert.equal((await logoutWithBearer(t.app, second.token)).statusCode, 200);

  assert.deepEqual(events(), [
    { type: 'registered', user_id: userId, session_id: first, ip: '127.0.0.1', reason: undefined },
    {
      type: 'login_failed',
      user_id: userId,
      session_id: undefined,
      ip: '203.0.113.7',
      reason: 'bad_password',
    },
    {
      type: 'login_failed',
      user_id: null,
      session_id: undefined,
      ip: '203.0.113.7',
      reason: 'unknown_account',
    },
    {
      type: 'login_succeeded',
      user_id: userId,
      session_id: secondSid,
      ip: '127.0.0.1',
      reason: undefined,
    },
    {
      type: 'password_changed',
      user_id: userId,
      session_id: secondSid,
      ip: '127.0.0.1',
      reason: undefined,
    },
    {
      type: 'session_ended',
      user_id: userId,
      session_id: first,
      ip: '127.0.0.1',
      reason: 'password_changed',
    },
    {
      type: 'logged_out',
      user_id: userId,
      session_id: secondSid,
      ip: '127.0.0.1',
      reason: 'signed_out',
    },
  ]);
});

test('a throttled login and a refresh-token reuse are logged as such', async () => {
  const user = await registerUser(t.app);
  const { sub, sid } = jwtClaims(user.token);
  for (let i = 0; i < 2; i++)
    assert.equal((await login(user.email, WRONG_PASSWORD)).statusCode, 401);
  assert.equal((await login(user.email, GOOD_PASSWORD)).statusCode, 429);
  const rotated = await refreshWith(t.app, user.refresh);
  assert.ok(refreshCookieOf(rotated));
  t.clock.advance(60_000);
  assert.equal((await refreshWith(t.app, user.refresh)).statusCode, 401);

  const seen = events();
  assert.deepEqual(seen.at(3), {
    type: 'login_failed',
    user_id: sub,
    session_id: undefined,
    ip: '203.0.113.7',
    reason: 'throttled',
  });
  assert.deepEqual(seen.slice(4), [
    {
      type: 'refresh_token_reused',
      user_id: sub,
      session_id: sid,
      ip: '127.0.0.1',
      reason: undefined,
    },
    {
      type: 'session_ended',
      user_id: sub,
      session_id: sid,
      ip: '127.0.0.1',
      reason: 'refresh_token_reuse',
    },
  ]);
});

test('no security event line holds a password, a token, a cookie or the email typed', async () => {
  const user = await registerUser(t.app);
  await login(user.email, WRONG_PASSWORD);
  const typedByMistake = 'my secret passphrase in the email field';
  await login(typedByMistake, WRONG_PASSWORD);
  const next = await logIn(t.app, user.email);
  const rotated = await refreshWith(t.app, next.refresh);
  await logoutWithBearer(t.app, next.token);
  const logged = JSON.stringify(lines);
  assert.ok(events().length >= 4, 'events were logged');
  for (const [what, secret] of [
    ['the password', GOOD_PASSWORD],
    ['the wrong password', WRONG_PASSWORD],
    ['the email', user.email],
    ['what was typed as an email', typedByMistake],
    ['an access token', next.token],
    ['a refresh cookie', next.refresh],
    ['a rotated cookie', refreshCookieOf(rotated) ?? 'none'],
  ] as const) {
    assert.ok(!logged.includes(secret), `${what} appears in the logs`);
  }
});

/**
 * Second factors (issue 13): TOTP enrolment, sign-in in two steps, replay and window rules with
 * an injected clock, parallel use of one code and of one recovery code, a pending sign-in that is
 * good for nothing else and expires, its own failure counter, step-up, removal, and a password
 * reset that never lowers assurance.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import {
  bearer,
  createTestApp,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  logIn,
  refreshCookieOf,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
} from './support/test-app.ts';
import { startTestSmtp, type TestSmtp } from './support/test-smtp.ts';

const KEY = Buffer.alloc(32, 8).toString('base64');
const NEW_PASSWORD = 'purple elephant mountain river';

let smtp: TestSmtp;
let t: TestApp;
before(async () => {
  smtp = await startTestSmtp();
});
after(() => smtp.close());
beforeEach(async () => {
  t = await createTestApp({ env: { KEY_ENCRYPTION_KEY: KEY, SMTP_URL: smtp.url } });
});
afterEach(() => t.close());

const post = (url: string, payload: object, token?: string) =>
  t.app.inject({ method: 'POST', url, headers: token === undefined ? {} : bearer(token), payload });

interface Enrolled {
  user: SignedIn;
  totp: OTPAuth.TOTP;
  recoveryCodes: string[];
}

/** A code of the authenticator at the test clock, `steps` steps from now. */
const codeAt = (totp: OTPAuth.TOTP, steps = 0) =>
  totp.generate({ timestamp: t.clock.now() + steps * 30_000 });

async function enrolled(): Promise<Enrolled> {
  const user = await registerUser(t.app);
  const started = await post('/auth/mfa/totp', { current_password: GOOD_PASSWORD }, user.token);
  assert.equal(started.statusCode, 200, started.body);
  const data = json(started).data as { secret: string; otpauth_url: string; qr_svg: string };
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(data.secret) });
  const confirmed = await post('/auth/mfa/totp/confirm', { code: codeAt(totp) }, user.token);
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  const recoveryCodes = (json(confirmed).data as { recovery_codes: string[] }).recovery_codes;
  t.clock.advance(30_000); // the enrolment code's step is spent
  return { user, totp, recoveryCodes };
}

async function passwordStep(email: string, password = GOOD_PASSWORD): Promise<string> {
  const res = await post('/auth/login', { email, password });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(res.headers['set-cookie'], undefined, 'no cookie before the second factor');
  assert.equal(json(res)['auth_token'], undefined);
  return String(json(res)['mfa_token']);
}

describe('enrolment', () => {
  test('enrolment shows a secret and an SVG QR code, and only a valid first code turns it on', async () => {
    const user = await registerUser(t.app);
    const wrong = await post(
      '/auth/mfa/totp',
      { current_password: 'not the password at all' },
      user.token,
    );
    assert.equal(json(wrong).code, 'invalid_credentials');
    const started = await post('/auth/mfa/totp', { current_password: GOOD_PASSWORD }, user.token);
    const data = json(started).data as { secret: string; otpauth_url: string; qr_svg: string };
    assert.match(data.secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
    assert.match(data.otpauth_url, /^otpauth:\/\/totp\/Latchkey:.*secret=/);
    assert.match(data.qr_svg, /^<svg[\s\S]*<\/svg>\s*$/);
    const off = json(
      await t.app.inject({ method: 'GET', url: '/auth/mfa', headers: bearer(user.token) }),
    );
    assert.deepEqual(off.data, { totp: false, recovery_codes_left: 0 });
    assert.equal(
      json(await post('/auth/mfa/totp/confirm', { code: '000000' }, user.token)).code,
      'invalid_mfa_code',
    );
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(data.secret) });
    const on = await post('/auth/mfa/totp/confirm', { code: codeAt(totp) }, user.token);
    const codes = (json(on).data as { recovery_codes: string[] }).recovery_codes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    await smtp.waitFor(
      (m) => m.to === user.email && /two-step sign-in was turned on/.test(m.subject),
    );
    const status2 = json(
      await t.app.inject({ method: 'GET', url: '/auth/mfa', headers: bearer(user.token) }),
    );
    assert.deepEqual(status2.data, { totp: true, recovery_codes_left: 10 });
  });

  test('the secret is stored sealed with KEY_ENCRYPTION_KEY', async () => {
    const { user } = await enrolled();
    const stored = await t.store.findTotp(String(jwtClaims(user.token).sub));
    assert.match(stored?.secret ?? '', /^aes256gcm\.v1\./);
  });
});

describe('sign-in with a second factor', () => {
  test('the right password alone gives a pending sign-in that is good for nothing else; the code finishes it', async () => {
    const { user, totp } = await enrolled();
    const pending = await passwordStep(user.email);
    assert.equal((await status(t.app, pending)).statusCode, 401, 'not an access token');
    const asCookie = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: { 'content-type': 'application/json' },
      cookies: { latchkey_refresh: pending },
      payload: '{}',
    });
    assert.equal(asCookie.statusCode, 401, 'not a refresh cookie');
    const done = await post('/auth/login/mfa', { mfa_token: pending, code: codeAt(totp) });
    assert.equal(done.statusCode, 200, done.body);
    assert.ok(refreshCookieOf(done));
    const token = String(json(done)['auth_token']);
    assert.deepEqual(jwtClaims(token)['amr'], ['pwd', 'otp', 'mfa']);
    assert.equal((await status(t.app, token)).statusCode, 200);
    assert.equal(
      json(await post('/auth/login/mfa', { mfa_token: pending, code: codeAt(totp, 1) })).code,
      'invalid_mfa_token',
      'used once',
    );
  });

  test('a code works once; an earlier step is refused; one step either side is accepted, two are not', async () => {
    const { user, totp } = await enrolled();
    const code = codeAt(totp);
    assert.equal(
      (await post('/auth/login/mfa', { mfa_token: await passwordStep(user.email), code }))
        .statusCode,
      200,
    );
    const replay = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code,
    });
    assert.equal(json(replay).code, 'invalid_mfa_code', 'the same code again');
    const earlier = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code: codeAt(totp, -1),
    });
    assert.equal(json(earlier).code, 'invalid_mfa_code', 'an earlier step');
    const tooFar = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code: codeAt(totp, 2),
    });
    assert.equal(json(tooFar).code, 'invalid_mfa_code', 'two steps ahead');
    const ahead = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code: codeAt(totp, 1),
    });
    assert.equal(ahead.statusCode, 200, 'one step ahead (clock drift)');
  });

  test('20 parallel sign-ins with one code: exactly one succeeds', async () => {
    const { user, totp } = await enrolled();
    const pendings: string[] = [];
    for (let i = 0; i < 4; i++) pendings.push(await passwordStep(user.email));
    const code = codeAt(totp);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post('/auth/login/mfa', { mfa_token: pendings[i % 4] ?? '', code }),
      ),
    );
    assert.equal(
      answers.filter((res) => res.statusCode === 200).length,
      1,
      answers.map((r) => r.statusCode).join(),
    );
  });

  test('10 parallel uses of one recovery code: one success; the count goes down', async () => {
    const { user, recoveryCodes } = await enrolled();
    const pendings: string[] = [];
    for (let i = 0; i < 3; i++) pendings.push(await passwordStep(user.email));
    const code = recoveryCodes[0] ?? '';
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post('/auth/login/mfa', {
          mfa_token: pendings[i % 3] ?? '',
          recovery_code: code.toLowerCase(),
        }),
      ),
    );
    const ok = answers.filter((res) => res.statusCode === 200);
    assert.equal(ok.length, 1, answers.map((r) => r.statusCode).join());
    const [first] = ok;
    assert.ok(first);
    const token = String(json(first)['auth_token']);
    const left = json(
      await t.app.inject({ method: 'GET', url: '/auth/mfa', headers: bearer(token) }),
    );
    assert.deepEqual(left.data, { totp: true, recovery_codes_left: 9 });
  });

  test('one pending sign-in completed with 5 different recovery codes at once gives one session', async () => {
    const { user, recoveryCodes } = await enrolled();
    const pending = await passwordStep(user.email);
    const answers = await Promise.all(
      recoveryCodes
        .slice(0, 5)
        .map((code) => post('/auth/login/mfa', { mfa_token: pending, recovery_code: code })),
    );
    const codes = answers.map((res) => res.statusCode);
    assert.equal(codes.filter((c) => c === 200).length, 1, codes.join(','));
    for (const res of answers) {
      if (res.statusCode !== 200) assert.equal(json(res).code, 'invalid_mfa_token');
    }
  });

  test('wrong codes have their own limit; the password counter is not touched', async () => {
    const { user, totp } = await enrolled();
    const pending = await passwordStep(user.email);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        json(await post('/auth/login/mfa', { mfa_token: pending, code: '000000' })).code,
        'invalid_mfa_code',
      );
    }
    const blocked = await post('/auth/login/mfa', { mfa_token: pending, code: codeAt(totp) });
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    await passwordStep(user.email); // the password is still accepted
    t.clock.advance(15 * 60_000);
    const later = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code: codeAt(totp),
    });
    assert.equal(later.statusCode, 200, later.body);
  });

  test('a pending sign-in expires after five minutes', async () => {
    const { user, totp } = await enrolled();
    const pending = await passwordStep(user.email);
    t.clock.advance(5 * 60_000 + 1000);
    assert.equal(
      json(await post('/auth/login/mfa', { mfa_token: pending, code: codeAt(totp) })).code,
      'invalid_mfa_token',
    );
    assert.equal(
      json(await post('/auth/login/mfa', { mfa_token: 'x', code: codeAt(totp) })).code,
      'invalid_mfa_token',
    );
  });
});

describe('changes need the second factor', () => {
  test('a password change needs a fresh code (step-up)', async () => {
    const { user, totp } = await enrolled();
    const body = { current_password: GOOD_PASSWORD, new_password: NEW_PASSWORD };
    assert.equal(json(await post('/auth/password', body, user.token)).code, 'mfa_required');
    assert.equal(
      json(await post('/auth/password', { ...body, code: '123456' }, user.token)).code,
      'invalid_mfa_code',
    );
    assert.equal(
      (await post('/auth/password', { ...body, code: codeAt(totp) }, user.token)).statusCode,
      200,
    );
  });

  test('new recovery codes need a code, and the old ones stop working', async () => {
    const { user, totp, recoveryCodes } = await enrolled();
    assert.equal(json(await post('/auth/mfa/recovery-codes', {}, user.token)).code, 'mfa_required');
    const res = await post('/auth/mfa/recovery-codes', { code: codeAt(totp) }, user.token);
    const fresh = (json(res).data as { recovery_codes: string[] }).recovery_codes;
    assert.equal(fresh.length, 10);
    const old = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      recovery_code: recoveryCodes[0],
    });
    assert.equal(json(old).code, 'invalid_mfa_code');
  });

  test('removing TOTP needs a code and the password, and ends the other sessions', async () => {
    const { user, totp } = await enrolled();
    const other = await post('/auth/login/mfa', {
      mfa_token: await passwordStep(user.email),
      code: codeAt(totp),
    });
    const otherToken = String(json(other)['auth_token']);
    t.clock.advance(30_000);
    assert.equal(
      json(await post('/auth/mfa/totp/remove', { current_password: GOOD_PASSWORD }, user.token))
        .code,
      'mfa_required',
    );
    const removed = await post(
      '/auth/mfa/totp/remove',
      { current_password: GOOD_PASSWORD, code: codeAt(totp) },
      user.token,
    );
    assert.equal(removed.statusCode, 200, removed.body);
    await smtp.waitFor((m) => m.to === user.email && /turned off/.test(m.subject));
    assert.equal(json(await status(t.app, otherToken)).code, 'token_revoked');
    assert.equal((await status(t.app, user.token)).statusCode, 200);
    const plain = await logIn(t.app, user.email);
    assert.deepEqual(jwtClaims(plain.token)['amr'], ['pwd']);
  });

  test('a password reset of an account with a second factor needs it before anything is spent', async () => {
    const { user, totp, recoveryCodes } = await enrolled();
    await post('/auth/password/forgot', { email: user.email });
    const mail = await smtp.waitFor((m) => m.to === user.email && /reset/.test(m.subject));
    const token = mail.token ?? '';
    const reset = (extra: object) =>
      post('/auth/password/reset', { token, new_password: NEW_PASSWORD, ...extra });
    assert.equal(json(await reset({})).code, 'mfa_required');
    assert.equal(json(await reset({ code: '000000' })).code, 'invalid_mfa_code');
    assert.equal((await status(t.app, user.token)).statusCode, 200, 'nothing happened yet');
    const done = await reset({ recovery_code: recoveryCodes[1] });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(refreshCookieOf(done), undefined, 'a reset signs nobody in');
    // The second factor stays: the new password alone still stops at it.
    const pending = await passwordStep(user.email, NEW_PASSWORD);
    assert.equal(
      (await post('/auth/login/mfa', { mfa_token: pending, code: codeAt(totp) })).statusCode,
      200,
    );
  });
});

describe('an account that lost every second factor', () => {
  test('an admin resets its second factors: audited, every session ends, the password alone signs in again', async () => {
    const { user } = await enrolled();
    const adminEmail = `root.${process.pid}.${Date.now()}@example.com`;
    await t.services.admin.createAdmin(adminEmail, GOOD_PASSWORD);
    const admin = await logIn(t.app, adminEmail);
    const userId = String(jwtClaims(user.token).sub);
    const stranger = await post(`/admin/users/${userId}/mfa/reset`, {}, user.token);
    assert.equal(json(stranger).code, 'forbidden');
    const res = await post(`/admin/users/${userId}/mfa/reset`, {}, admin.token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(await status(t.app, user.token)).code, 'token_revoked');
    const plain = await logIn(t.app, user.email);
    assert.deepEqual(jwtClaims(plain.token)['amr'], ['pwd']);
    const events = json(
      await t.app.inject({
        method: 'GET',
        url: `/admin/events?user_id=${userId}&type=mfa_removed`,
        headers: bearer(admin.token),
      }),
    ).data as { actor_id: string; detail: Record<string, unknown> }[];
    assert.equal(events[0]?.actor_id, String(jwtClaims(admin.token).sub));
    assert.equal(events[0]?.detail['reason'], 'admin_reset');
  });
});

/**
 * Email verification, password reset and email change (v2 contract), against a real SMTP server
 * on loopback: every row of the contract's table with its failures, link scanners, enumeration,
 * single use under concurrency, expiry, revocation on every instance, delivery through an SMTP
 * outage and a restart, and no token in any log line.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  createTestDatabase,
  GOOD_PASSWORD,
  json,
  logIn,
  openTestStore,
  refreshCookieOf,
  refreshWith,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
  testEngine,
  uniqueEmail,
} from './support/test-app.ts';
import { type ReceivedMail, startTestSmtp, type TestSmtp } from './support/test-smtp.ts';

const NEW_PASSWORD = 'purple elephant mountain river';
const PUBLIC_URL = 'https://auth.example.test';
const HOUR_MS = 3600_000;

let smtp: TestSmtp;
let t: TestApp;
let lines: Record<string, unknown>[];
const apps: TestApp[] = [];

before(async () => {
  smtp = await startTestSmtp();
});
after(() => smtp.close());

async function app(env: Record<string, string> = {}, shared?: TestApp): Promise<TestApp> {
  const created = await createTestApp({
    env: { SMTP_URL: smtp.url, PUBLIC_URL, LOGIN_MAX_FAILURES: '5', ...env },
    logLines: lines,
    ...(shared === undefined ? {} : { store: shared.store, keepStore: true, clock: shared.clock }),
  });
  apps.push(created);
  return created;
}

beforeEach(async () => {
  lines = [];
  smtp.refusing = false;
  t = await app();
});
afterEach(async () => {
  // Later apps first: they share the first one's store.
  for (const created of apps.reverse()) await created.close();
  apps.length = 0;
});

const post = (payload: unknown, url: string, token?: string, target = t) =>
  target.app.inject({
    method: 'POST',
    url,
    headers: token === undefined ? {} : bearer(token),
    payload: payload as Record<string, unknown>,
  });

const mailTo = (email: string, subject: RegExp) =>
  smtp.waitFor((mail) => mail.to === email && subject.test(mail.subject));

const tokenOf = (mail: ReceivedMail): string => {
  assert.ok(mail.token, `a link with a token in: ${mail.text}`);
  return mail.token;
};

function assertInvalidToken(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(json(res).code, 'invalid_email_token');
}

async function statusData(token: string, target = t): Promise<Record<string, unknown>> {
  const res = await status(target.app, token);
  assert.equal(res.statusCode, 200, res.body);
  return json(res).data as Record<string, unknown>;
}

async function registered(): Promise<{ user: SignedIn; mail: ReceivedMail }> {
  const user = await registerUser(t.app, uniqueEmail('mail'));
  return { user, mail: await mailTo(user.email, /verify your email/) };
}

describe('verification', () => {
  test('registration mails a verification link; the POST with its token verifies the address', async () => {
    const { user, mail } = await registered();
    assert.equal(mail.subject, 'Latchkey: verify your email address');
    assert.match(mail.from, /^"?Latchkey"? <no-reply@auth\.example\.test>$/);
    assert.ok(mail.link?.startsWith(`${PUBLIC_URL}/verify-email#token=`), mail.link);
    assert.match(mail.text, /Latchkey/);
    assert.match(mail.html, /Latchkey/);
    assert.ok(mail.html.includes(mail.link ?? 'no link'), 'the HTML part has the same link');
    assert.equal((await statusData(user.token))['email_verified'], false);

    const res = await post({ token: tokenOf(mail) }, '/auth/email/verify');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(json(res), { status: 'success', message: 'Your email address is verified.' });
    assert.equal(refreshCookieOf(res), undefined, 'verifying does not sign in');
    assert.equal((await statusData(user.token))['email_verified'], true);
    assertInvalidToken(await post({ token: tokenOf(mail) }, '/auth/email/verify'));
  });

  test('mails have no tracking: no images, no remote resources, only the one link', async () => {
    const { mail } = await registered();
    assert.doesNotMatch(mail.html, /<img|<script|src=|url\(/i);
    const hrefs = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(hrefs, [mail.link]);
    assert.match(mail.raw, /Content-Type: multipart\/alternative/i);
  });

  test('opening a link (a scanner’s GET and HEAD) spends nothing', async () => {
    const { user, mail } = await registered();
    const token = tokenOf(mail);
    for (const method of ['GET', 'HEAD'] as const) {
      for (const url of [
        `/verify-email#token=${token}`,
        `/verify-email?token=${token}`,
        `/auth/email/verify?token=${token}`,
      ]) {
        const res = await t.app.inject({ method, url });
        assert.ok(res.statusCode < 500, `${method} ${url}: ${res.statusCode}`);
      }
    }
    assert.equal((await statusData(user.token))['email_verified'], false);
    assert.equal((await post({ token }, '/auth/email/verify')).statusCode, 200);
  });

  test('20 parallel verifications with one token: exactly one succeeds', async () => {
    const { mail } = await registered();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post({ token: tokenOf(mail) }, '/auth/email/verify')),
    );
    assert.deepEqual(answers.map((res) => res.statusCode).sort(), [
      200,
      ...Array.from({ length: 19 }, () => 400),
    ]);
  });

  test('asking again mails a new link that makes the older one unusable, one mail a minute', async () => {
    const { user, mail: first } = await registered();
    const again = await post({}, '/auth/email/verify/request', user.token);
    assert.equal(again.statusCode, 202, again.body);
    const second = await smtp.waitFor(
      (m) => m.to === user.email && m.token !== undefined && m.token !== first.token,
    );
    const throttled = await post({}, '/auth/email/verify/request', user.token);
    assert.equal(throttled.statusCode, 429, throttled.body);
    assert.ok(Number(throttled.headers['retry-after']) > 0);
    assertInvalidToken(await post({ token: tokenOf(first) }, '/auth/email/verify'));
    assert.equal((await post({ token: tokenOf(second) }, '/auth/email/verify')).statusCode, 200);
    t.clock.advance(61_000);
    const done = await post({}, '/auth/email/verify/request', user.token);
    assert.equal(done.statusCode, 202);
    assert.equal(json(done).message, 'Your email address is already verified.');
  });

  test('20 parallel requests for a verification mail: one 202, the rest 429, one mail', async () => {
    const { user, mail: first } = await registered();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post({}, '/auth/email/verify/request', user.token)),
    );
    const codes = answers.map((res) => res.statusCode);
    assert.equal(codes.filter((c) => c === 202).length, 1, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 19);
    await smtp.waitFor((m) => m.to === user.email && m.token !== first.token);
    await t.services.mailSender.runOnce();
    assert.equal(smtp.mails.filter((m) => m.to === user.email).length, 2, 'registration + one');
  });

  test('a verification link expires after EMAIL_VERIFY_TTL', async () => {
    const { mail } = await registered();
    t.clock.advance(24 * HOUR_MS + 1000);
    assertInvalidToken(await post({ token: tokenOf(mail) }, '/auth/email/verify'));
  });

  test('tokens that are not ours, and bodies of the wrong shape, get a clear 400', async () => {
    for (const token of ['', 'x', 'A'.repeat(43), '../../etc/passwd', 'é'.repeat(43)]) {
      assertInvalidToken(await post({ token }, '/auth/email/verify'));
    }
    const missing = await post({}, '/auth/email/verify');
    assert.equal(missing.statusCode, 400);
    assert.equal(json(missing).code, 'validation_failed');
    const wrongType = await post({ token: 42 }, '/auth/email/verify');
    assert.equal(json(wrongType).code, 'validation_failed');
  });
});

describe('password reset', () => {
  const forgot = (email: string, target = t) =>
    post({ email }, '/auth/password/forgot', undefined, target);

  test('forgot-password answers an unknown address exactly as a known one, and mails only the known', async () => {
    const { user } = await registered();
    const known = await forgot(user.email);
    const unknown = await forgot(uniqueEmail('nobody'));
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, unknown.statusCode);
    assert.equal(known.body, unknown.body);
    const headersOf = (res: LightMyRequestResponse) =>
      Object.keys(res.headers)
        .filter((name) => name !== 'date')
        .sort()
        .map((name) => `${name}: ${name === 'content-length' ? '' : String(res.headers[name])}`);
    assert.deepEqual(headersOf(known), headersOf(unknown));
    const mail = await mailTo(user.email, /reset your password/);
    assert.ok(mail.link?.startsWith(`${PUBLIC_URL}/reset-password#token=`), mail.link);
    await t.services.emailFlows.settle();
    assert.equal(smtp.mails.filter((m) => m.to.startsWith('nobody')).length, 0);
  });

  test('20 parallel forgot-password requests for one email: one 202, the rest 429, one mail', async () => {
    const { user } = await registered();
    const answers = await Promise.all(Array.from({ length: 20 }, () => forgot(user.email)));
    const codes = answers.map((res) => res.statusCode);
    assert.equal(codes.filter((c) => c === 202).length, 1, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 19);
    await t.services.emailFlows.settle();
    await t.services.mailSender.runOnce();
    assert.equal(
      smtp.mails.filter((m) => m.to === user.email && /reset/.test(m.subject)).length,
      1,
    );
  });

  test('forgot-password is limited per email, unknown emails counted the same way', async () => {
    const { user } = await registered();
    const stranger = uniqueEmail('nobody');
    for (const email of [user.email, stranger]) {
      assert.equal((await forgot(email)).statusCode, 202);
      const again = await forgot(email);
      assert.equal(again.statusCode, 429, again.body);
      assert.equal(json(again).code, 'rate_limited');
      assert.ok(Number(again.headers['retry-after']) > 0);
    }
    const bad = await forgot('not an email');
    assert.equal(bad.statusCode, 400);
    assert.equal(json(bad).code, 'validation_failed');
  });

  test('reset sets the password, ends every session at once, verifies the address and clears the failure count', async () => {
    const { user } = await registered();
    const other = await logIn(t.app, user.email);
    for (let i = 0; i < 5; i++) {
      await post({ email: user.email, password: 'wrong password number ' + i }, '/auth/login');
    }
    assert.equal(
      (await post({ email: user.email, password: GOOD_PASSWORD }, '/auth/login')).statusCode,
      429,
    );
    assert.equal((await forgot(user.email)).statusCode, 202);
    const mail = await mailTo(user.email, /reset your password/);

    const res = await post(
      { token: tokenOf(mail), new_password: NEW_PASSWORD },
      '/auth/password/reset',
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).status, 'success');
    for (const session of [user, other]) {
      assert.equal(json(await status(t.app, session.token)).code, 'token_revoked');
      assert.equal((await refreshWith(t.app, session.refresh)).statusCode, 401);
    }
    assert.equal(
      (await post({ email: user.email, password: GOOD_PASSWORD }, '/auth/login')).statusCode,
      401,
    );
    const signedIn = await logIn(t.app, user.email, NEW_PASSWORD);
    assert.equal((await statusData(signedIn.token))['email_verified'], true);
    assertInvalidToken(
      await post(
        { token: tokenOf(mail), new_password: 'yet another new password' },
        '/auth/password/reset',
      ),
    );
    await mailTo(user.email, /your password was reset/);
  });

  test('a refused new password does not spend the token', async () => {
    const { user } = await registered();
    await forgot(user.email);
    const token = tokenOf(await mailTo(user.email, /reset your password/));
    for (const weak of ['short', 'password123']) {
      const res = await post({ token, new_password: weak }, '/auth/password/reset');
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(json(res).code, 'validation_failed');
      assert.ok((json(res).fields as Record<string, string>)['new_password']);
    }
    assert.equal(
      (await post({ token, new_password: NEW_PASSWORD }, '/auth/password/reset')).statusCode,
      200,
    );
  });

  test('20 parallel resets with one token: exactly one succeeds, and its password is the one set', async () => {
    const { user } = await registered();
    await forgot(user.email);
    const token = tokenOf(await mailTo(user.email, /reset your password/));
    const passwords = Array.from({ length: 20 }, (_, i) => `new password number ${i} for me`);
    const answers = await Promise.all(
      passwords.map((new_password) => post({ token, new_password }, '/auth/password/reset')),
    );
    const winners = answers.flatMap((res, i) => (res.statusCode === 200 ? [passwords[i]] : []));
    assert.equal(winners.length, 1, answers.map((r) => r.statusCode).join(','));
    for (const res of answers) if (res.statusCode !== 200) assertInvalidToken(res);
    await logIn(t.app, user.email, winners[0]);
  });

  test('a reset link expires after PASSWORD_RESET_TTL, and a newer one retires it', async () => {
    const { user } = await registered();
    await forgot(user.email);
    const first = await mailTo(user.email, /reset your password/);
    t.clock.advance(61_000);
    await forgot(user.email);
    const second = await smtp.waitFor(
      (m) => m.to === user.email && /reset/.test(m.subject) && m.token !== first.token,
    );
    assertInvalidToken(
      await post({ token: tokenOf(first), new_password: NEW_PASSWORD }, '/auth/password/reset'),
    );
    t.clock.advance(HOUR_MS);
    assertInvalidToken(
      await post({ token: tokenOf(second), new_password: NEW_PASSWORD }, '/auth/password/reset'),
    );
  });

  test('a reset ends the sessions on every instance at once', async () => {
    const other = await app({}, t);
    const { user } = await registered();
    assert.equal((await status(other.app, user.token)).statusCode, 200);
    await forgot(user.email);
    const token = tokenOf(await mailTo(user.email, /reset your password/));
    assert.equal(
      (await post({ token, new_password: NEW_PASSWORD }, '/auth/password/reset')).statusCode,
      200,
    );
    assert.equal(json(await status(other.app, user.token)).code, 'token_revoked');
  });
});

describe('email change', () => {
  const change = (user: SignedIn, new_email: string, current_password = GOOD_PASSWORD) =>
    post({ new_email, current_password }, '/auth/email/change', user.token);

  test('a change needs the password, mails the new address and notifies the old, and changes nothing until confirmed', async () => {
    const { user } = await registered();
    const newEmail = uniqueEmail('new');
    const wrong = await change(user, newEmail, 'not my password at all');
    assert.equal(wrong.statusCode, 401);
    assert.equal(json(wrong).code, 'invalid_credentials');
    const res = await change(user, newEmail);
    assert.equal(res.statusCode, 202, res.body);
    const confirm = await mailTo(newEmail, /confirm your new email/);
    assert.ok(confirm.link?.startsWith(`${PUBLIC_URL}/confirm-email#token=`));
    const notice = await mailTo(user.email, /change of your email address/);
    assert.equal(notice.token, undefined, 'the notice carries no link');
    assert.ok(notice.text.includes(newEmail));
    assert.equal((await statusData(user.token))['email'], user.email);

    const done = await post({ token: tokenOf(confirm) }, '/auth/email/change/confirm');
    assert.equal(done.statusCode, 200, done.body);
    const data = await statusData(user.token);
    assert.equal(data['email'], newEmail);
    assert.equal(data['email_verified'], true);
    await logIn(t.app, newEmail);
    assert.equal(
      (await post({ email: user.email, password: GOOD_PASSWORD }, '/auth/login')).statusCode,
      401,
    );
    assertInvalidToken(await post({ token: tokenOf(confirm) }, '/auth/email/change/confirm'));
  });

  test('a change to a taken address is 409, before and at confirmation', async () => {
    const { user } = await registered();
    const { user: someone } = await registered();
    assert.equal((await change(user, someone.email)).statusCode, 409);
    const wanted = uniqueEmail('wanted');
    assert.equal((await change(user, wanted)).statusCode, 202);
    const confirm = await mailTo(wanted, /confirm your new email/);
    await registerUser(t.app, wanted);
    const res = await post({ token: tokenOf(confirm) }, '/auth/email/change/confirm');
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(json(res).code, 'email_taken');
    assert.equal((await statusData(user.token))['email'], user.email);
  });

  test('bad new addresses get validation_failed on new_email', async () => {
    const { user } = await registered();
    for (const address of ['no at sign', user.email, user.email.toUpperCase()]) {
      const res = await change(user, address);
      assert.equal(res.statusCode, 400, `${address}: ${res.body}`);
      assert.ok((json(res).fields as Record<string, string>)['new_email'], address);
    }
  });

  test('wrong passwords for a change count towards the login limit', async () => {
    const { user } = await registered();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => change(user, uniqueEmail('x'), `wrong guess ${i} here`)),
    );
    const codes = answers.map((res) => res.statusCode);
    assert.equal(codes.filter((c) => c === 401).length, 5, codes.join(','));
    assert.equal(codes.filter((c) => c === 429).length, 15);
    assert.equal(
      (await post({ email: user.email, password: GOOD_PASSWORD }, '/auth/login')).statusCode,
      429,
    );
  });
});

describe('delivery', () => {
  test('an SMTP outage, then a restart: the mail is still delivered, once', async (ctx) => {
    const store = await openTestStore();
    ctx.after(() => store.close());
    const env = { SMTP_URL: smtp.url, PUBLIC_URL };
    const first = await createTestApp({ env, store, keepStore: true, logLines: lines });
    smtp.refusing = true;
    const user = await registerUser(first.app, uniqueEmail('outage'));
    // The first attempt fails; it is recorded for a retry.
    await first.services.mailSender.runOnce();
    assert.ok(
      lines.some((line) => String(line['msg']).includes('not delivered')),
      'the failure is logged',
    );
    await first.close();
    smtp.refusing = false;
    const clock = first.clock;
    const restarted = await createTestApp({ env, store, keepStore: true, clock });
    apps.push(restarted);
    clock.advance(11_000);
    await restarted.services.mailSender.runOnce();
    const mail = await mailTo(user.email, /verify your email/);
    assert.equal(
      (await post({ token: tokenOf(mail) }, '/auth/email/verify', undefined, restarted)).statusCode,
      200,
    );
    await restarted.services.mailSender.runOnce();
    assert.equal(smtp.mails.filter((m) => m.to === user.email).length, 1);
  });

  test('a request never waits for delivery: with SMTP refusing, every flow still answers', async () => {
    smtp.refusing = true;
    const user = await registerUser(t.app, uniqueEmail('refused'));
    assert.equal((await post({ email: user.email }, '/auth/password/forgot')).statusCode, 202);
    assert.equal((await post({}, '/auth/email/verify/request', user.token)).statusCode, 202);
    await t.services.mailSender.runOnce();
    assert.equal(smtp.mails.filter((m) => m.to === user.email).length, 0, 'nothing got through');
  });

  test('no token, link or password reaches a log line', async () => {
    const { user, mail } = await registered();
    await post({ token: tokenOf(mail) }, '/auth/email/verify');
    await post({ email: user.email }, '/auth/password/forgot');
    const reset = await mailTo(user.email, /reset your password/);
    await post({ token: tokenOf(reset), new_password: NEW_PASSWORD }, '/auth/password/reset');
    const signedIn = await logIn(t.app, user.email, NEW_PASSWORD);
    const newEmail = uniqueEmail('logs');
    await post(
      { new_email: newEmail, current_password: NEW_PASSWORD },
      '/auth/email/change',
      signedIn.token,
    );
    const confirm = await mailTo(newEmail, /confirm/);
    await post({ token: tokenOf(confirm) }, '/auth/email/change/confirm');
    await t.services.mailSender.runOnce();
    const logged = JSON.stringify(lines);
    assert.ok(
      lines.some((line) => String(line['msg']).includes('sent to SMTP')),
      'deliveries are logged',
    );
    for (const [what, secret] of [
      ['the verification token', tokenOf(mail)],
      ['the reset token', tokenOf(reset)],
      ['the change token', tokenOf(confirm)],
      ['the new password', NEW_PASSWORD],
      ['the old password', GOOD_PASSWORD],
    ] as const) {
      assert.ok(!logged.includes(secret), `${what} appears in the logs`);
    }
  });
});

describe('REQUIRE_EMAIL_VERIFICATION=true', () => {
  test('registration gives no token until verified; the right password says email_not_verified, a wrong one 401', async () => {
    const strict = await app({ REQUIRE_EMAIL_VERIFICATION: 'true' }, t);
    const email = uniqueEmail('strict');
    const res = await post({ email, password: GOOD_PASSWORD }, '/auth/register', undefined, strict);
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(Object.keys(json(res)).sort(), ['message', 'status']);
    assert.equal(res.headers['set-cookie'], undefined);
    const login = (password: string) => post({ email, password }, '/auth/login', undefined, strict);
    const unverified = await login(GOOD_PASSWORD);
    assert.equal(unverified.statusCode, 403, unverified.body);
    assert.equal(json(unverified).code, 'email_not_verified');
    assert.equal(unverified.headers['set-cookie'], undefined);
    assert.equal((await login('a wrong password, surely')).statusCode, 401);
    const mail = await mailTo(email, /verify your email/);
    const verified = await post({ token: tokenOf(mail) }, '/auth/email/verify', undefined, strict);
    assert.equal(verified.headers['set-cookie'], undefined, 'verifying does not sign in');
    assert.equal((await login(GOOD_PASSWORD)).statusCode, 200);
  });
});

describe('the outbox at rest', () => {
  test('with KEY_ENCRYPTION_KEY a pending mail is sealed: its link is never in the database file', async (ctx) => {
    const database = await createTestDatabase();
    const store = await database.open();
    const sealed = await createTestApp({
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_URL,
        KEY_ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64'),
      },
      store,
    });
    ctx.after(async () => {
      await sealed.close();
      await store.close();
      await database.remove();
    });
    smtp.refusing = true;
    const user = await registerUser(sealed.app, uniqueEmail('sealed'));
    await sealed.services.mailSender.runOnce();
    const dataDir = database.env['DATA_DIR'];
    const onDisk = () =>
      ['latchkey.sqlite', 'latchkey.sqlite-wal']
        .map((file) => join(dataDir ?? '', file))
        .filter((path) => existsSync(path))
        .map((path) => readFileSync(path).toString('latin1'))
        .join('');
    if (testEngine === 'sqlite') {
      assert.ok(onDisk().includes(user.email), 'the outbox row is there');
      assert.ok(!onDisk().includes('verify-email#token='), 'no link in the file');
    }
    smtp.refusing = false;
    sealed.clock.advance(11_000);
    await sealed.services.mailSender.runOnce();
    const mail = await mailTo(user.email, /verify your email/);
    if (testEngine === 'sqlite') assert.ok(!onDisk().includes(tokenOf(mail)), 'no token either');
  });
});

describe('the audit trail of the email flows', () => {
  test('verification, reset and email change each leave their event, with no token in it', async () => {
    const { user, mail } = await registered();
    await post({ token: tokenOf(mail) }, '/auth/email/verify');
    await post({ email: user.email }, '/auth/password/forgot');
    const reset = await mailTo(user.email, /reset your password/);
    await post({ token: tokenOf(reset), new_password: NEW_PASSWORD }, '/auth/password/reset');
    const signedIn = await logIn(t.app, user.email, NEW_PASSWORD);
    const newEmail = uniqueEmail('trail');
    await post(
      { new_email: newEmail, current_password: NEW_PASSWORD },
      '/auth/email/change',
      signedIn.token,
    );
    const confirm = await mailTo(newEmail, /confirm/);
    await post({ token: tokenOf(confirm) }, '/auth/email/change/confirm');
    const res = await t.app.inject({
      method: 'GET',
      url: '/auth/events?limit=100',
      headers: bearer(signedIn.token),
    });
    assert.equal(res.statusCode, 200, res.body);
    const types = (json(res).data as { type: string }[]).map((e) => e.type);
    for (const type of [
      'registered',
      'email_verified',
      'password_reset_requested',
      'password_reset',
      'session_ended',
      'email_change_requested',
      'email_changed',
    ]) {
      assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
    }
    for (const secret of [tokenOf(mail), tokenOf(reset), tokenOf(confirm), NEW_PASSWORD]) {
      assert.ok(!res.body.includes(secret));
    }
  });
});

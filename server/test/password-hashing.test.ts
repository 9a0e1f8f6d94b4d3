/**
 * Passwords with the server's real argon2id parameters (m=19456 KiB, t=2, p=1, the OWASP Password
 * Storage Cheat Sheet floor). Every other suite hashes with a fast argon2id (support/test-app.ts),
 * so this is the one that sees what production stores and checks. Each real hash costs tens of
 * milliseconds: keep it small.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPasswordHasher } from '../src/services/password-hasher.ts';
import {
  createTestApp,
  GOOD_PASSWORD,
  json,
  refreshSetCookieHeader,
  registerUser,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

/** What every hash the server writes starts with: algorithm, version and parameters. */
const SERVER_PHC_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';
const INVALID_CREDENTIALS = {
  status: 'fail',
  code: 'invalid_credentials',
  message: 'Invalid email or password.',
};

let t: TestApp;
before(async () => {
  t = await createTestApp({ hasher: 'real' });
});
after(() => t.close());

function logIn(email: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
}

async function storedHashOf(email: string): Promise<string> {
  const user = await t.store.findUserByEmail(email);
  assert.ok(user, `no user ${email}`);
  return user.passwordHash;
}

describe('password hashing with the real argon2id parameters', () => {
  test('registration stores a salted argon2id PHC string with the server’s parameters', async () => {
    const first = await registerUser(t.app);
    const second = await registerUser(t.app);
    const [firstHash, secondHash] = [
      await storedHashOf(first.email),
      await storedHashOf(second.email),
    ];
    assert.ok(firstHash.startsWith(SERVER_PHC_PREFIX), firstHash);
    assert.ok(secondHash.startsWith(SERVER_PHC_PREFIX), secondHash);
    assert.notEqual(firstHash, secondHash, 'the same password hashes differently per user');
    assert.ok(!firstHash.includes(GOOD_PASSWORD));
  });

  test('login accepts the right password and answers a wrong one and an unknown email alike', async () => {
    const user = await registerUser(t.app);
    assert.equal((await logIn(user.email, GOOD_PASSWORD)).statusCode, 200);

    const wrongPassword = await logIn(user.email, 'not the right password');
    const unknownEmail = await logIn(uniqueEmail('nobody'), 'not the right password');
    assert.equal(wrongPassword.statusCode, 401);
    assert.deepEqual(json(wrongPassword), INVALID_CREDENTIALS);
    assert.equal(unknownEmail.statusCode, 401);
    assert.equal(unknownEmail.body, wrongPassword.body);
    assert.equal(refreshSetCookieHeader(wrongPassword), undefined);
    assert.equal(refreshSetCookieHeader(unknownEmail), undefined);
  });

  test('a password logs in whether its accents are composed or decomposed (NFKC)', async () => {
    const composed = 'crème brûlée à la café'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    assert.notEqual(composed, decomposed);
    const user = await registerUser(t.app, uniqueEmail('accents'), decomposed);
    assert.equal((await logIn(user.email, composed)).statusCode, 200);
    assert.equal((await logIn(user.email, decomposed)).statusCode, 200);
    // Normalising does not strip accents: without them it is another password.
    const unaccented = await logIn(user.email, 'creme brulee a la cafe');
    assert.equal(unaccented.statusCode, 401);
    assert.deepEqual(json(unaccented), INVALID_CREDENTIALS);
  });

  test('a hash made with other parameters is replaced at the next successful login', async () => {
    // Another deployment's parameters (one more pass), as after a change of ARGON2_ITERATIONS.
    const older = createPasswordHasher({ memoryKib: 19_456, iterations: 3, parallelism: 1 }, 1);
    const email = uniqueEmail('upgrade');
    const oldHash = await older.hash(GOOD_PASSWORD);
    assert.ok(oldHash.startsWith('$argon2id$v=19$m=19456,t=3,p=1$'), oldHash);
    assert.ok(
      await t.store.insertUser({
        id: crypto.randomUUID(),
        email,
        passwordHash: oldHash,
        admin: false,
        createdAt: t.clock.now(),
        emailVerifiedAt: null,
        disabledAt: null,
        lastLoginAt: null,
      }),
    );

    assert.equal((await logIn(email, 'not the right password')).statusCode, 401);
    assert.equal(await storedHashOf(email), oldHash, 'a failed login changes nothing');

    assert.equal((await logIn(email, GOOD_PASSWORD)).statusCode, 200);
    const upgraded = await storedHashOf(email);
    assert.ok(upgraded.startsWith(SERVER_PHC_PREFIX), upgraded);

    // The new hash checks the same password, and is not replaced again.
    assert.equal((await logIn(email, GOOD_PASSWORD)).statusCode, 200);
    assert.equal(await storedHashOf(email), upgraded);
  });
});

describe('the bounded hashing line (HASH_QUEUE_MAX)', () => {
  test('password checks past the line answer 503 with Retry-After at once; the others are answered', async (ctx) => {
    const busy = await createTestApp({
      hasher: 'real',
      env: { HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '2' },
    });
    ctx.after(() => busy.close());
    // Distinct emails: the per-account limit stays out of the way.
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        busy.app.inject({
          method: 'POST',
          url: '/auth/login',
          payload: { email: uniqueEmail(`queue${i}`), password: 'not anybody password' },
        }),
      ),
    );
    const unavailable = answers.filter((r) => r.statusCode === 503);
    const refused = answers.filter((r) => r.statusCode === 401);
    assert.equal(unavailable.length + refused.length, 30, answers.map((r) => r.statusCode).join());
    // One hashing, two waiting: at most three of thirty reach the hash.
    assert.ok(refused.length >= 1 && refused.length <= 3, `${refused.length} answered 401`);
    for (const res of unavailable) {
      assert.equal(json(res).code, 'service_unavailable');
      assert.match(String(res.headers['retry-after']), /^\d+$/);
    }
    // Once the line has drained, password checks work again.
    const later = await busy.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: uniqueEmail('after'), password: 'not anybody password' },
    });
    assert.equal(later.statusCode, 401);
  });
});

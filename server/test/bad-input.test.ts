import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  createTestApp,
  GOOD_PASSWORD,
  json,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

const JSON_TYPE = 'application/json';
const ROUTES = ['/auth/register', '/auth/login'] as const;

/** POSTs a raw body with exactly the given content type (none when undefined). */
function post(app: FastifyInstance, url: string, body: string | undefined, contentType?: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    ...(body === undefined ? {} : { payload: body }),
  });
}

const postJson = (app: FastifyInstance, url: string, value: unknown) =>
  post(app, url, JSON.stringify(value), JSON_TYPE);

const register = (app: FastifyInstance, email: unknown, password: unknown) =>
  postJson(app, '/auth/register', { email, password });
const logIn = (app: FastifyInstance, email: unknown, password: unknown) =>
  postJson(app, '/auth/login', { email, password });

/** The contract's failure: a 4xx JSON body `{status:"fail", code, message}`, never HTML. */
function assertFailure(res: LightMyRequestResponse, statusCode: number, code: string) {
  assert.equal(
    res.statusCode,
    statusCode,
    `expected ${statusCode} ${code}, got ${res.statusCode} ${res.body}`,
  );
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = json(res);
  assert.equal(body.status, 'fail');
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  assert.notEqual(body.message, '');
  return body;
}

/** A 400 validation_failed naming the given fields (each with a readable problem). */
function assertInvalidFields(res: LightMyRequestResponse, ...fields: string[]) {
  const body = assertFailure(res, 400, 'validation_failed');
  assert.ok(body.fields, `no fields in ${res.body}`);
  for (const field of fields) {
    assert.equal(typeof body.fields[field], 'string', `no problem for ${field} in ${res.body}`);
    assert.notEqual(body.fields[field], '');
  }
  return body;
}

function assertRegistered(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 201, res.body);
  assert.equal(json(res).message, 'Successfully registered.');
  return String(json(res).auth_token);
}

function assertLoggedIn(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(json(res).message, 'Successfully logged in.');
  return String(json(res).auth_token);
}

async function emailOf(app: FastifyInstance, token: string): Promise<string> {
  const res = await status(app, token);
  assert.equal(res.statusCode, 200, res.body);
  return (json(res).data as { email: string }).email;
}

const codePoints = (text: string) => [...text].length;

describe('POST /auth/register and /auth/login with unreadable or mis-shaped bodies', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  for (const url of ROUTES) {
    test(`${url} answers bad_request to malformed JSON`, async () => {
      const malformed = [
        '{',
        '{"email":',
        '{"email":"a@example.com","password":"long enough pass",}',
        "{'email':'a@example.com','password':'long enough pass'}",
        '{email:"a@example.com"}',
        'undefined',
        'NaN',
        '{"email":"a@example.com"}{"password":"x"}',
        '\u0000',
        '{"email":"\\x41@example.com","password":"long enough pass"}',
      ];
      for (const body of malformed) {
        assertFailure(await post(t.app, url, body, JSON_TYPE), 400, 'bad_request');
      }
    });

    test(`${url} answers validation_failed to JSON that is not an object`, async () => {
      for (const body of [
        '[]',
        '[{"email":"a@example.com"}]',
        '"hello"',
        '42',
        '0',
        'null',
        'true',
        'false',
      ]) {
        assertInvalidFields(await post(t.app, url, body, JSON_TYPE), 'body');
      }
    });

    test(`${url} answers validation_failed naming each missing field`, async () => {
      assertInvalidFields(await postJson(t.app, url, {}), 'email', 'password');
      assertInvalidFields(await postJson(t.app, url, { email: uniqueEmail() }), 'password');
      assertInvalidFields(await postJson(t.app, url, { password: GOOD_PASSWORD }), 'email');
      assertInvalidFields(
        await postJson(t.app, url, { Email: uniqueEmail(), Password: GOOD_PASSWORD }),
        'email',
      );
    });

    test(`${url} answers validation_failed to wrongly typed fields, never coercing`, async () => {
      const wrong: unknown[] = [
        123,
        0,
        1.5,
        true,
        false,
        null,
        [],
        ['a@example.com'],
        {},
        { value: 'x' },
      ];
      for (const value of wrong) {
        assertInvalidFields(
          await postJson(t.app, url, { email: value, password: GOOD_PASSWORD }),
          'email',
        );
        assertInvalidFields(
          await postJson(t.app, url, { email: uniqueEmail(), password: value }),
          'password',
        );
      }
    });

    test(`${url} answers payload_too_large to a body over 16 KiB`, async () => {
      const password = 'p'.repeat(17 * 1024);
      assertFailure(
        await postJson(t.app, url, { email: uniqueEmail(), password }),
        413,
        'payload_too_large',
      );
    });

    test(`${url} answers unsupported_media_type to a body that is not declared JSON`, async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: GOOD_PASSWORD });
      const types = [
        'text/plain',
        'text/plain; charset=utf-8',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        'application/json-patch+json',
      ];
      for (const type of types) {
        assertFailure(await post(t.app, url, body, type), 415, 'unsupported_media_type');
      }
      assertFailure(await post(t.app, url, body), 415, 'unsupported_media_type');
      const form = new URLSearchParams({
        email: uniqueEmail(),
        password: GOOD_PASSWORD,
      }).toString();
      assertFailure(
        await post(t.app, url, form, 'application/x-www-form-urlencoded'),
        415,
        'unsupported_media_type',
      );
    });

    test(`${url} refuses prototype pollution attempts with a 4xx`, async () => {
      const email = uniqueEmail();
      const credentials = JSON.stringify({ email, password: GOOD_PASSWORD }).slice(1, -1);
      const attempts = [
        `{"__proto__":{"admin":true},${credentials}}`,
        `{${credentials},"__proto__":{"admin":true}}`,
        `{"constructor":{"prototype":{"admin":true}},${credentials}}`,
        `{${credentials},"nested":{"__proto__":{"admin":true}}}`,
        `{${credentials},"list":[{"constructor":{"prototype":{"admin":true}}}]}`,
      ];
      for (const body of attempts) {
        const res = await post(t.app, url, body, JSON_TYPE);
        assert.ok(
          res.statusCode >= 400 && res.statusCode < 500,
          `${body}: ${res.statusCode} ${res.body}`,
        );
        assert.equal(json(res).status, 'fail');
      }
      assert.equal(
        ({} as Record<string, unknown>)['admin'],
        undefined,
        'Object.prototype was polluted',
      );
    });
  }

  test('register accepts application/json with a charset and in any letter case', async () => {
    for (const type of [
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'Application/JSON',
    ]) {
      const body = JSON.stringify({ email: uniqueEmail(), password: GOOD_PASSWORD });
      assertRegistered(await post(t.app, '/auth/register', body, type));
    }
  });

  test('register answers validation_failed to an empty JSON body', async () => {
    assertInvalidFields(await post(t.app, '/auth/register', '', JSON_TYPE), 'email', 'password');
  });

  test('register creates no account when the password arrives as a number', async () => {
    const email = uniqueEmail();
    assertInvalidFields(await register(t.app, email, 123456789012), 'password');
    assertFailure(await logIn(t.app, email, '123456789012'), 401, 'invalid_credentials');
    assertRegistered(await register(t.app, email, GOOD_PASSWORD));
  });

  test('register after a pollution attempt still creates ordinary non-admin users', async () => {
    const email = uniqueEmail();
    const credentials = JSON.stringify({ email, password: GOOD_PASSWORD }).slice(1, -1);
    const body = `{"__proto__":{"admin":true},${credentials}}`;
    assert.equal((await post(t.app, '/auth/register', body, JSON_TYPE)).statusCode, 400);
    const token = assertRegistered(await register(t.app, email, GOOD_PASSWORD));
    const res = await status(t.app, token);
    assert.equal((json(res).data as { admin: boolean }).admin, false);
  });
});

describe('POST /auth/register email rules', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('register refuses emails with invisible, control or ill-formed characters', async () => {
    const refused = [
      'ada\u200b@example.com', // zero-width space
      'ada@exa\u200bmple.com',
      '\u202emoc.elpmaxe@ada', // right-to-left override
      'ada\u202e@example.com',
      'ada\u2066@example.com', // left-to-right isolate
      'ada\ufeff@example.com', // byte order mark inside
      'ada\u00ad@example.com', // soft hyphen
      'ada\u0007@example.com', // bell
      'ada\u001b[31m@example.com', // terminal escape
      'ada\u0000@example.com', // NUL
      'ada@example.com\u0000',
      'ada\u0085@example.com', // C1 next line
      'a da@example.com',
      'ada\t@example.com',
      'ada@exam\nple.com',
      'ada\u00a0@example.com', // no-break space
      'ada\u3000@example.com', // ideographic space
      'ada\ud83d@example.com', // lone high surrogate from a split emoji
      'ada\u034f@example.com', // combining grapheme joiner
      'ada\ufe0f@example.com', // variation selector 16
      'ada\u{e0101}@example.com', // variation selector 18
      'ada\u3164@example.com', // Hangul filler
      'ada\uffa0@example.com', // halfwidth Hangul filler
      '\uff41da@example.com', // fullwidth a
      'ada@example\uff0ecom', // fullwidth full stop
      'ada\uff20example.com', // fullwidth commercial at
    ];
    for (const email of refused) {
      const res = await register(t.app, email, GOOD_PASSWORD);
      assert.equal(res.statusCode, 400, `${JSON.stringify(email)}: ${res.body}`);
      assertInvalidFields(res, 'email');
    }
  });

  test('emails that differ only by composed or decomposed accents are one account', async () => {
    const composed = `jos\u00e9.${Date.now()}@example.com`;
    const decomposed = composed.normalize('NFD');
    assert.notEqual(composed, decomposed);
    assert.equal((await register(t.app, composed, GOOD_PASSWORD)).statusCode, 201);
    const again = await register(t.app, decomposed, GOOD_PASSWORD);
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(json(again).code, 'email_taken');
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: decomposed.toUpperCase(), password: GOOD_PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
  });

  test('register refuses lone surrogates sent as raw JSON escapes', async () => {
    for (const escaped of ['\\ud800', '\\udfff', '\\udc00\\ud800']) {
      const body = `{"email":"ada${escaped}@example.com","password":"${GOOD_PASSWORD}"}`;
      assertInvalidFields(await post(t.app, '/auth/register', body, JSON_TYPE), 'email');
    }
  });

  test('register refuses emails without one local part, one @ and a dotted domain', async () => {
    const refused = [
      '',
      '   ',
      'ada',
      'ada@',
      '@example.com',
      'ada@example',
      'ada@@example.com',
      'a@b@example.com',
      'ada@example.',
      'ada@.com',
      'ada@example..com',
    ];
    for (const email of refused) {
      const res = await register(t.app, email, GOOD_PASSWORD);
      assert.equal(res.statusCode, 400, `${JSON.stringify(email)}: ${res.body}`);
      assertInvalidFields(res, 'email');
    }
  });

  test('register accepts a 254-character email and refuses 255 characters or more', async () => {
    const domain = '@example.com';
    const ofLength = (n: number) => `${'a'.repeat(n - domain.length)}${domain}`;
    assertRegistered(await register(t.app, ofLength(254), GOOD_PASSWORD));
    for (const length of [255, 256, 1024, 1025, 10_000]) {
      assertInvalidFields(await register(t.app, ofLength(length), GOOD_PASSWORD), 'email');
    }
  });

  test('register accepts emoji and accented letters in an email, kept intact', async () => {
    for (const email of ['😀@example.com', 'josé@exämple.com', '用户@例子.公司']) {
      const token = assertRegistered(await register(t.app, email, GOOD_PASSWORD));
      assert.equal(await emailOf(t.app, token), email);
      assertLoggedIn(await logIn(t.app, email, GOOD_PASSWORD));
    }
  });

  test('register trims and lower-cases the email, and login matches it in any case', async () => {
    const token = assertRegistered(await register(t.app, ' Ada@Example.COM ', GOOD_PASSWORD));
    assert.equal(await emailOf(t.app, token), 'ada@example.com');
    assertLoggedIn(await logIn(t.app, 'ada@example.com', GOOD_PASSWORD));
    assertLoggedIn(await logIn(t.app, '  ADA@EXAMPLE.com\n', GOOD_PASSWORD));
    for (const again of ['ADA@example.com', 'ada@example.com', ' ada@EXAMPLE.COM']) {
      const res = await register(t.app, again, 'a different password 1');
      const body = assertFailure(res, 409, 'email_taken');
      assert.equal(body.message, 'User already exists. Please log in.');
    }
  });

  test('login with a look-alike email hiding invisible characters does not match', async () => {
    const email = uniqueEmail('lookalike');
    assertRegistered(await register(t.app, email, GOOD_PASSWORD));
    for (const variant of [
      email.replace('@', '\u200b@'),
      `\u202e${email}`,
      email.replace('@', '\u0000@'),
    ]) {
      const body = assertFailure(
        await logIn(t.app, variant, GOOD_PASSWORD),
        401,
        'invalid_credentials',
      );
      assert.equal(body.message, 'Invalid email or password.');
    }
  });
});

describe('POST /auth/register password rules', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('register refuses a 7-character password', async () => {
    assertInvalidFields(await register(t.app, uniqueEmail(), 'Zq9#xT4'), 'password');
  });

  test('register counts code points, not UTF-16 units: 7 emoji are too short', async () => {
    const sevenEmoji = '🦊🐙🦉🐢🦋🐝🦀';
    assert.equal(sevenEmoji.length, 14);
    assert.equal(codePoints(sevenEmoji), 7);
    assertInvalidFields(await register(t.app, uniqueEmail(), sevenEmoji), 'password');
  });

  test('register accepts a password of 8 emoji and login takes it back', async () => {
    const eightEmoji = '🦊🐙🦉🐢🦋🐝🦀🐳';
    assert.equal(eightEmoji.length, 16);
    const email = uniqueEmail();
    assertRegistered(await register(t.app, email, eightEmoji));
    assertLoggedIn(await logIn(t.app, email, eightEmoji));
    assertFailure(await logIn(t.app, email, eightEmoji.slice(0, -2)), 401, 'invalid_credentials');
  });

  test('register accepts 256 code points and refuses 257', async () => {
    const emoji256 = '🦊🐙🦉🐢🦋🐝🦀🐳'.repeat(32);
    assert.equal(codePoints(emoji256), 256);
    assertRegistered(await register(t.app, uniqueEmail(), emoji256));
    const ascii256 = 'k9!q'.repeat(64);
    assertRegistered(await register(t.app, uniqueEmail(), ascii256));
    assertInvalidFields(await register(t.app, uniqueEmail(), `${ascii256}z`), 'password');
    assertInvalidFields(await register(t.app, uniqueEmail(), `${emoji256}🦊`), 'password');
  });

  test('register never truncates a long password', async () => {
    const email = uniqueEmail();
    const password = 'k9!q'.repeat(64);
    assertRegistered(await register(t.app, email, password));
    for (const prefix of [password.slice(0, 72), password.slice(0, 128), password.slice(0, 255)]) {
      assertFailure(await logIn(t.app, email, prefix), 401, 'invalid_credentials');
    }
    assertLoggedIn(await logIn(t.app, email, password));
  });

  test('register keeps a password with a NUL character whole', async () => {
    const email = uniqueEmail();
    const password = 'before the nul\u0000after it';
    assertRegistered(await register(t.app, email, password));
    assertFailure(await logIn(t.app, email, 'before the nul'), 401, 'invalid_credentials');
    assertLoggedIn(await logIn(t.app, email, password));
  });

  test('register refuses common passwords in any letter case with a field error', async () => {
    for (const password of ['password123', 'iloveyou1', 'PASSWORD123', 'qwertyuiop']) {
      const email = uniqueEmail();
      const body = assertInvalidFields(await register(t.app, email, password), 'password');
      assert.equal(body.fields?.['email'], undefined);
      // No account was created: the email is still free.
      assertRegistered(await register(t.app, email, GOOD_PASSWORD));
    }
  });

  test('register refuses a password with lone surrogates', async () => {
    const body = `{"email":"${uniqueEmail()}","password":"long enough \\ud800 password"}`;
    assertInvalidFields(await post(t.app, '/auth/register', body, JSON_TYPE), 'password');
  });

  test('register names both fields when both are wrong', async () => {
    assertInvalidFields(await register(t.app, 'not an email', 'short'), 'email', 'password');
  });
});

describe('unknown paths', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('unknown paths under /auth answer a JSON not_found for every method', async () => {
    const requests: { method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'; url: string }[] = [
      { method: 'GET', url: '/auth/nope' },
      { method: 'GET', url: '/auth' },
      { method: 'GET', url: '/auth/' },
      { method: 'GET', url: '/auth/register/extra' },
      { method: 'GET', url: '/auth/%00' },
      { method: 'GET', url: '/auth/..%2f..%2fetc%2fpasswd' },
      { method: 'POST', url: '/auth/nope' },
      { method: 'POST', url: '/auth/status/../nope' },
      { method: 'DELETE', url: '/auth/nope' },
      { method: 'PUT', url: '/auth/nope' },
      { method: 'PATCH', url: '/auth/nope?x=1' },
    ];
    for (const { method, url } of requests) {
      const res = await t.app.inject({
        method,
        url,
        headers: { 'content-type': JSON_TYPE },
        payload: '{}',
      });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.statusCode} ${res.body}`);
      assertFailure(res, 404, 'not_found');
    }
  });

  test('a wrong method on a known /auth path answers a JSON 404 not_found, never 405', async () => {
    // docs/api.md: a known path with the wrong method is 404 `not_found`, like an unknown path.
    const requests: { method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH'; url: string }[] = [
      { method: 'GET', url: '/auth/register' },
      { method: 'PUT', url: '/auth/register' },
      { method: 'PATCH', url: '/auth/register' },
      { method: 'GET', url: '/auth/login' },
      { method: 'DELETE', url: '/auth/login' },
      { method: 'GET', url: '/auth/refresh' },
      { method: 'GET', url: '/auth/logout' },
      { method: 'POST', url: '/auth/status' },
      { method: 'DELETE', url: '/auth/user' },
      { method: 'POST', url: '/auth/sessions' },
      { method: 'PUT', url: '/auth/sessions/some-id' },
      { method: 'GET', url: '/auth/password' },
    ];
    for (const { method, url } of requests) {
      const res = await t.app.inject({ method, url });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.statusCode} ${res.body}`);
      assertFailure(res, 404, 'not_found');
    }
  });

  test('a POST to an unknown path outside /auth answers a JSON not_found', async () => {
    assertFailure(await postJson(t.app, '/nope', { email: 'a@example.com' }), 404, 'not_found');
    assertFailure(await post(t.app, '/nope', 'hello', 'text/plain'), 404, 'not_found');
    assertFailure(await post(t.app, '/index.html', '{}', JSON_TYPE), 404, 'not_found');
  });
});

describe('POST /auth/register and /auth/login under fuzzing', () => {
  let t: TestApp;
  let known: SignedIn;
  /** Accounts the fuzz created: stored email → password. */
  const accounts = new Map<string, string>();
  before(async () => {
    t = await createTestApp();
    known = await registerUser(t.app);
    accounts.set(known.email, known.password);
  });
  after(() => t.close());

  /** Contract rules for an acceptable new account, written independently of the server. */
  const acceptableEmail = (email: string) =>
    email.length <= 254 &&
    email.split('@').length === 2 &&
    /@[^@]+\.[^@.]+$/.test(email) &&
    !/[\s\p{Cc}\p{Cf}\u{115F}\u{3164}\u{FF00}-\u{FFEF}]|\p{Variation_Selector}|\u{034F}|\u{1160}/u.test(
      email,
    ) &&
    email.isWellFormed();
  const acceptablePassword = (password: string) =>
    codePoints(password) >= 8 && codePoints(password) <= 256 && password.isWellFormed();

  /** Zero 5xx, JSON with status fail or success, and 2xx only with a working token. */
  async function checkAnswer(url: string, res: LightMyRequestResponse, sent: unknown) {
    const shown = JSON.stringify(sent)?.slice(0, 300);
    const where = `${url} ${shown} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
    assert.ok(res.statusCode < 500, where);
    assert.match(String(res.headers['content-type']), /^application\/json/, where);
    const body = json(res);
    if (res.statusCode >= 400) {
      assert.equal(body.status, 'fail', where);
      assert.equal(typeof body.code, 'string', where);
      assert.equal(typeof body.message, 'string', where);
      if (body.code === 'validation_failed') assert.equal(typeof body.fields, 'object', where);
      if (res.statusCode === 429) assert.ok(res.headers['retry-after'], where);
      return;
    }
    assert.equal(res.statusCode, url === '/auth/register' ? 201 : 200, where);
    assert.equal(body.status, 'success', where);
    assert.equal(body['token_type'], 'Bearer', where);
    assert.equal(body['expires_in'], 900, where);
    assert.match(String(body.auth_token), /^[\w-]+\.[\w-]+\.[\w-]+$/, where);
    assert.equal(res.headers['cache-control'], 'no-store', where);
    // The sent body was a credentials object with string fields, or a 2xx would be a bug.
    const { email, password } = sent as { email: string; password: string };
    assert.equal(typeof email, 'string', where);
    assert.equal(typeof password, 'string', where);
    const stored = await emailOf(t.app, String(body.auth_token));
    assert.equal(stored, email.trim().toLowerCase().normalize('NFC'), where);
    if (url === '/auth/register') {
      assert.ok(acceptableEmail(stored), `accepted a bad email: ${where}`);
      assert.ok(acceptablePassword(password), `accepted a bad password: ${where}`);
      assert.ok(!accounts.has(stored), `registered the same email twice: ${where}`);
      accounts.set(stored, password);
    } else {
      const registered = accounts.get(stored);
      assert.ok(registered !== undefined, `logged in to an account nobody registered: ${where}`);
      assert.equal(
        password.normalize('NFKC'),
        registered.normalize('NFKC'),
        `wrong password accepted: ${where}`,
      );
    }
  }

  const route = fc.constantFrom(...ROUTES);
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme-composite', minLength: 8, maxLength: 20 }),
  );
  const emailText = fc.oneof(
    text,
    fc.emailAddress(),
    fc.emailAddress().map((e) => ` ${e.toUpperCase()}\t`),
    fc.tuple(fc.emailAddress(), text).map(([e, s]) => `${s}${e}`),
    fc.constant(null).map(() => known.email),
  );
  const passwordText = fc.oneof(
    text,
    fc.string({ minLength: 8, maxLength: 300 }),
    fc.string({ unit: 'grapheme', minLength: 8, maxLength: 64 }),
    fc.constant(GOOD_PASSWORD),
    fc.constantFrom('password123', 'iloveyou1'),
  );
  const otherValue = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  );
  const credentials = fc.record(
    {
      email: fc.oneof({ weight: 4, arbitrary: emailText }, { weight: 1, arbitrary: otherValue }),
      password: fc.oneof(
        { weight: 4, arbitrary: passwordText },
        { weight: 1, arbitrary: otherValue },
      ),
    },
    { requiredKeys: [] },
  );
  const withExtras = fc
    .tuple(
      credentials,
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    )
    .map(([creds, extra]) => ({ ...extra, ...creds }));

  test('arbitrary JSON values never cause a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(route, fc.jsonValue(), async (url, value) => {
        await checkAnswer(url, await postJson(t.app, url, value), value);
      }),
      { numRuns: 150 },
    );
  });

  test('credentials of arbitrary strings, Unicode, numbers and nulls never cause 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(route, fc.oneof(credentials, withExtras), async (url, value) => {
        await checkAnswer(url, await postJson(t.app, url, value), value);
      }),
      { numRuns: 150 },
    );
  });

  test('login accepts the email in any case and spacing, only with its password', async () => {
    const variants = fc.record({
      email: fc
        .tuple(fc.boolean(), fc.string({ unit: fc.constantFrom(' ', '\t', '\n'), maxLength: 3 }))
        .map(
          ([upper, space]) => `${space}${upper ? known.email.toUpperCase() : known.email}${space}`,
        ),
      password: fc.constantFrom(known.password, known.password.toUpperCase(), `${known.password} `),
    });
    await fc.assert(
      fc.asyncProperty(variants, async (value) => {
        // Let earlier failures age out of the login throttle's window.
        t.clock.advance(901_000);
        const res = await postJson(t.app, '/auth/login', value);
        await checkAnswer('/auth/login', res, value);
        assert.equal(res.statusCode, value.password === known.password ? 200 : 401, res.body);
      }),
      { numRuns: 30 },
    );
  });

  test('random raw bodies never cause a 5xx, whatever their content type', async () => {
    const truncatedJson = fc
      .tuple(fc.json(), fc.nat())
      .map(([s, n]) => s.slice(0, n % (s.length + 1)));
    const rawBody = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ maxLength: 200 }),
      truncatedJson,
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const contentType = fc.constantFrom(
      JSON_TYPE,
      JSON_TYPE,
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    );
    await fc.assert(
      fc.asyncProperty(route, rawBody, contentType, async (url, body, type) => {
        const res = await post(t.app, url, body, type);
        let sent: unknown = body;
        try {
          sent = JSON.parse(body);
        } catch {
          // not JSON: checked as the raw string
        }
        await checkAnswer(url, res, sent);
      }),
      { numRuns: 150 },
    );
  });
});

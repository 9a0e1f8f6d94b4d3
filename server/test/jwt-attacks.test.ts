import assert from 'node:assert/strict';
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign,
} from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  json,
  registerUser,
  type SignedIn,
  status,
  type TestApp,
} from './support/test-app.ts';

const MISSING_TOKEN = 'Provide a valid auth token.';
const INVALID_TOKEN = 'Invalid token. Please log in again.';
const TOKEN_EXPIRED = 'Signature expired. Please log in again.';
const MESSAGE_BY_CODE: Record<string, string> = {
  missing_token: MISSING_TOKEN,
  invalid_token: INVALID_TOKEN,
  token_expired: TOKEN_EXPIRED,
};

type Json = Record<string, unknown>;

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const decodeSegment = (segment: string) =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Json;

/** The header and payload segments of a JWT, as a signer would see them. */
const signingInput = (header: Json, payload: Json) =>
  `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;

/** A compact JWS signed by hand with an Ed25519 private key (no library in between). */
function signEd25519(header: Json, payload: Json, key: KeyObject): string {
  const input = signingInput(header, payload);
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

/** A compact JWS with an HMAC signature over the given secret. */
function signHmac(header: Json, payload: Json, secret: string | Buffer, hash = 'sha256'): string {
  const input = signingInput(header, payload);
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

function parts(token: string) {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return {
    header,
    payload,
    signature,
    headerJson: decodeSegment(header),
    claims: decodeSegment(payload),
  };
}

function getStatus(app: FastifyInstance, authorization?: string) {
  return app.inject({
    method: 'GET',
    url: '/auth/status',
    headers: authorization === undefined ? {} : { authorization },
  });
}

/** A 401 with the bearer challenge, the contract's failure body, and no user data. */
function assertRefused(res: LightMyRequestResponse, code: string) {
  assert.equal(res.statusCode, 401, `expected 401 ${code}, got ${res.statusCode} ${res.body}`);
  assert.equal(res.headers['www-authenticate'], 'Bearer');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = json(res);
  assert.deepEqual(
    { status: body.status, code: body.code, message: body.message },
    { status: 'fail', code, message: MESSAGE_BY_CODE[code] },
  );
  assert.equal(body.data, undefined);
}

interface StatusData {
  user_id: string;
  email: string;
  admin: boolean;
  registered_on: string;
}

async function statusData(app: FastifyInstance, token: string): Promise<StatusData> {
  const res = await status(app, token);
  assert.equal(res.statusCode, 200, res.body);
  return json(res).data as StatusData;
}

/** The server's active signing key, read from the store, as a node:crypto private key. */
async function serverSigningKey(t: TestApp, kid: string): Promise<KeyObject> {
  const record = (await t.store.listSigningKeys()).find((r) => r.kid === kid);
  assert.ok(record, `no signing key ${kid} in the store`);
  return createPrivateKey({ key: JSON.parse(record.privateJwk) as Json, format: 'jwk' });
}

describe('GET /auth/status with forged or tampered access tokens', () => {
  let t: TestApp;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceId: string;
  let bobId: string;
  /** Alice's real token, split. */
  let real: ReturnType<typeof parts>;
  let kid: string;
  let serverKey: KeyObject;
  /** Alice's real claims with a fresh jti, so a hand-signed token is never served from a cache. */
  const claims = (overrides: Json = {}): Json => ({
    ...real.claims,
    jti: randomUUID(),
    ...overrides,
  });
  const header = (overrides: Json = {}): Json => ({ ...real.headerJson, ...overrides });

  before(async () => {
    t = await createTestApp();
    alice = await registerUser(t.app);
    bob = await registerUser(t.app);
    aliceId = (await statusData(t.app, alice.token)).user_id;
    bobId = (await statusData(t.app, bob.token)).user_id;
    real = parts(alice.token);
    kid = String(real.headerJson['kid']);
    serverKey = await serverSigningKey(t, kid);
  });
  after(() => t.close());

  test('status accepts a token hand-signed with the server key (the forger works)', async () => {
    // Every refusal below differs from this token in exactly the way its test names.
    const data = await statusData(t.app, signEd25519(header(), claims(), serverKey));
    assert.equal(data.user_id, aliceId);
    assert.equal(data.email, alice.email);
  });

  test('status refuses an unsigned alg none token without a signature segment', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const input = signingInput({ alg, typ: 'JWT' }, claims());
      assertRefused(await status(t.app, input), 'invalid_token');
      const withKid = signingInput({ alg, typ: 'JWT', kid }, claims());
      assertRefused(await status(t.app, withKid), 'invalid_token');
    }
  });

  test('status refuses an alg none token with an empty or a copied signature segment', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      const input = signingInput({ alg, typ: 'JWT', kid }, claims());
      assertRefused(await status(t.app, `${input}.`), 'invalid_token');
      assertRefused(await status(t.app, `${input}.${real.signature}`), 'invalid_token');
    }
  });

  test('status refuses HMAC tokens keyed with the server public key (key confusion)', async () => {
    const jwksRes = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(jwksRes.statusCode, 200);
    const jwks = jwksRes.json() as { keys: Json[] };
    const jwk = jwks.keys.find((k) => k['kid'] === kid);
    assert.ok(jwk, 'the JWKS lists the key that signed the token');
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const secrets: (string | Buffer)[] = [
      JSON.stringify(jwk),
      String(publicKey.export({ type: 'spki', format: 'pem' })),
      publicKey.export({ type: 'spki', format: 'der' }),
      Buffer.from(String(jwk['x']), 'base64url'),
      String(jwk['x']),
    ];
    const algorithms: [string, string][] = [
      ['HS256', 'sha256'],
      ['HS384', 'sha384'],
      ['HS512', 'sha512'],
    ];
    for (const secret of secrets) {
      for (const [alg, hash] of algorithms) {
        const token = signHmac({ alg, typ: 'JWT', kid }, claims(), secret, hash);
        assertRefused(await status(t.app, token), 'invalid_token');
      }
    }
  });

  test('status refuses a token whose sub was changed to another user’s id', async () => {
    const forgedPayload = b64url(JSON.stringify({ ...real.claims, sub: bobId }));
    const res = await status(t.app, `${real.header}.${forgedPayload}.${real.signature}`);
    assertRefused(res, 'invalid_token');
    assert.doesNotMatch(res.body, new RegExp(bob.email.replaceAll('.', '\\.')));
  });

  test('status refuses a token whose payload changed in any other claim', async () => {
    const changes: Json[] = [
      { sid: randomUUID() },
      { exp: Number(real.claims['exp']) + 3600 },
      { aud: 'latchkey', extra: true },
    ];
    for (const change of changes) {
      const forgedPayload = b64url(JSON.stringify({ ...real.claims, ...change }));
      assertRefused(
        await status(t.app, `${real.header}.${forgedPayload}.${real.signature}`),
        'invalid_token',
      );
    }
  });

  test('status refuses a token whose header was tampered with, keeping the signature', async () => {
    const headers: Json[] = [
      header({ cty: 'JWT' }),
      header({ alg: 'ES256' }),
      header({ alg: 'Ed25519' }),
      header({ typ: 'jwt ' }),
    ];
    for (const forged of headers) {
      const token = `${b64url(JSON.stringify(forged))}.${real.payload}.${real.signature}`;
      assertRefused(await status(t.app, token), 'invalid_token');
    }
  });

  test('status refuses a server-signed token with an unknown or missing kid', async () => {
    assertRefused(
      await status(t.app, signEd25519(header({ kid: 'unknown-kid' }), claims(), serverKey)),
      'invalid_token',
    );
    const { kid: _kid, ...withoutKid } = header();
    assertRefused(
      await status(t.app, signEd25519(withoutKid, claims(), serverKey)),
      'invalid_token',
    );
  });

  test('status refuses a token signed with another Ed25519 key under the server kid', async () => {
    const attacker = generateKeyPairSync('ed25519');
    assertRefused(
      await status(t.app, signEd25519(header(), claims(), attacker.privateKey)),
      'invalid_token',
    );
  });

  test('status ignores a public key or key URL embedded in the token header', async () => {
    const attacker = generateKeyPairSync('ed25519');
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
    const forged: Json[] = [
      header({ jwk: attackerJwk }),
      header({ kid: undefined, jwk: attackerJwk }),
      header({ jku: 'https://attacker.example/jwks.json' }),
      header({ x5u: 'https://attacker.example/cert.pem' }),
    ];
    for (const forgedHeader of forged) {
      const token = signEd25519(forgedHeader, claims(), attacker.privateKey);
      assertRefused(await status(t.app, token), 'invalid_token');
    }
  });

  test('status refuses a token signed with the server key for another audience', async () => {
    for (const aud of ['other-service', ['other-service'], '', 'LATCHKEY']) {
      assertRefused(
        await status(t.app, signEd25519(header(), claims({ aud }), serverKey)),
        'invalid_token',
      );
    }
    const { aud: _aud, ...withoutAud } = claims();
    assertRefused(
      await status(t.app, signEd25519(header(), withoutAud, serverKey)),
      'invalid_token',
    );
  });

  test('status refuses a token signed with the server key from another issuer', async () => {
    const issuer = String(real.claims['iss']);
    for (const iss of ['https://evil.example', `${issuer}/`, '']) {
      assertRefused(
        await status(t.app, signEd25519(header(), claims({ iss }), serverKey)),
        'invalid_token',
      );
    }
    const { iss: _iss, ...withoutIss } = claims();
    assertRefused(
      await status(t.app, signEd25519(header(), withoutIss, serverKey)),
      'invalid_token',
    );
  });

  test('status refuses a server-signed token that lacks sid, jti, exp, sub or iat', async () => {
    for (const claim of ['sid', 'jti', 'exp', 'sub', 'iat']) {
      const payload = Object.fromEntries(
        Object.entries(claims()).filter(([name]) => name !== claim),
      );
      const res = await status(t.app, signEd25519(header(), payload, serverKey));
      assert.equal(res.statusCode, 401, `without ${claim}: ${res.body}`);
      assertRefused(res, 'invalid_token');
    }
  });

  test('status refuses a server-signed token whose claims have the wrong types', async () => {
    const wrong: Json[] = [
      { sid: 42 },
      { sub: 7 },
      { jti: null },
      { exp: String(real.claims['exp']) },
    ];
    for (const change of wrong) {
      assertRefused(
        await status(t.app, signEd25519(header(), claims(change), serverKey)),
        'invalid_token',
      );
    }
  });

  test('status refuses a token signed with the server key without typ JWT', async () => {
    const { typ: _typ, ...withoutTyp } = header();
    assertRefused(
      await status(t.app, signEd25519(withoutTyp, claims(), serverKey)),
      'invalid_token',
    );
  });

  test('status refuses a validly signed token for a user that does not exist', async () => {
    const token = signEd25519(header(), claims({ sub: randomUUID() }), serverKey);
    assertRefused(await status(t.app, token), 'invalid_token');
  });

  test('status shows each token holder their own data and nobody else', async () => {
    for (const [user, id, other] of [
      [alice, aliceId, bob],
      [bob, bobId, alice],
    ] as const) {
      for (const url of ['/auth/status', '/auth/user']) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(user.token) });
        assert.equal(res.statusCode, 200);
        const data = json(res).data as StatusData;
        assert.equal(data.user_id, id);
        assert.equal(data.user_id, parts(user.token).claims['sub']);
        assert.equal(data.email, user.email);
        assert.ok(!res.body.includes(other.email), 'another user’s email leaked');
      }
    }
    assert.notEqual(aliceId, bobId);
  });
});

describe('GET /auth/status with malformed Authorization headers', () => {
  let t: TestApp;
  let user: SignedIn;
  before(async () => {
    t = await createTestApp();
    user = await registerUser(t.app);
  });
  after(() => t.close());

  test('status without an Authorization header answers missing_token', async () => {
    assertRefused(await getStatus(t.app), 'missing_token');
  });

  test('status with an empty Authorization header answers missing_token', async () => {
    assertRefused(await getStatus(t.app, ''), 'missing_token');
    assertRefused(await getStatus(t.app, '   '), 'missing_token');
  });

  test('status with the Bearer scheme and no token answers missing_token', async () => {
    assertRefused(await getStatus(t.app, 'Bearer'), 'missing_token');
    assertRefused(await getStatus(t.app, 'Bearer '), 'missing_token');
  });

  test('status with Bearer glued to the token answers invalid_token', async () => {
    assertRefused(await getStatus(t.app, `Bearer${user.token}`), 'invalid_token');
  });

  test('status accepts the bearer scheme in any letter case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await getStatus(t.app, `${scheme} ${user.token}`);
      assert.equal(res.statusCode, 200, `${scheme}: ${res.body}`);
      assert.equal((json(res).data as StatusData).email, user.email);
    }
  });

  test('status with another scheme answers invalid_token', async () => {
    const basic = `Basic ${Buffer.from(`${user.email}:${user.password}`).toString('base64')}`;
    assertRefused(await getStatus(t.app, basic), 'invalid_token');
    assertRefused(await getStatus(t.app, `Token ${user.token}`), 'invalid_token');
    assertRefused(await getStatus(t.app, user.token), 'invalid_token');
  });

  test('status with text after the token answers invalid_token', async () => {
    assertRefused(await getStatus(t.app, `Bearer ${user.token} extra`), 'invalid_token');
    assertRefused(
      await getStatus(t.app, `Bearer ${user.token},Bearer ${user.token}`),
      'invalid_token',
    );
  });

  test('status refuses 8 KB of base64url garbage with invalid_token', async () => {
    const garbage = randomBytes(6144).toString('base64url');
    assert.equal(garbage.length, 8192);
    assertRefused(await status(t.app, garbage), 'invalid_token');
    const segment = randomBytes(2048).toString('base64url');
    assertRefused(await status(t.app, `${segment}.${segment}.${segment}`), 'invalid_token');
    const bigPayload = b64url(JSON.stringify({ sub: 'x', pad: 'a'.repeat(8000) }));
    assertRefused(
      await status(t.app, `${parts(user.token).header}.${bigPayload}.sig`),
      'invalid_token',
    );
  });

  test('status refuses garbage strings with invalid_token', async () => {
    const garbage = [
      'null',
      'undefined',
      '[object Object]',
      '.',
      '..',
      '...',
      'a.b.c',
      'eyJ',
      'eyJhbGciOiJub25lIn0',
      `${b64url('{')}.${b64url('{')}.`,
      `${b64url('[]')}.${b64url('[]')}.${b64url('x')}`,
      `${b64url('"x"')}.${b64url('1')}.${b64url('x')}`,
      'ä.ö.ü',
      '%00',
      '\\u0000',
      `${user.token}.`,
      `${user.token}x`,
      `.${user.token}`,
      user.token.split('.').reverse().join('.'),
      user.token.slice(0, -1),
    ];
    for (const token of garbage) {
      const res = await status(t.app, token);
      assert.equal(res.statusCode, 401, `${JSON.stringify(token)}: ${res.body}`);
      assertRefused(res, 'invalid_token');
    }
  });

  test('status refuses any random printable token with invalid_token', async () => {
    const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: printable, minLength: 1, maxLength: 400 }),
        async (token) => {
          const res = await status(t.app, token);
          assertRefused(res, 'invalid_token');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('GET /auth/status as the access token expires', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('a token works until just before expiry and is refused as expired after', async () => {
    const used = await registerUser(t.app);
    const unused = await registerUser(t.app);
    assert.equal((await status(t.app, used.token)).statusCode, 200);

    t.clock.advance(900_000 - 1);
    const late = await status(t.app, used.token);
    assert.equal(late.statusCode, 200, late.body);
    assert.equal((json(late).data as StatusData).email, used.email);

    t.clock.advance(1);
    // One token was verified before (and may be remembered), the other never was.
    assertRefused(await status(t.app, used.token), 'token_expired');
    assertRefused(await status(t.app, unused.token), 'token_expired');

    t.clock.advance(86_400_000);
    assertRefused(await status(t.app, used.token), 'token_expired');
  });

  test('an expired token that was tampered with is refused as invalid, not expired', async () => {
    const user = await registerUser(t.app);
    t.clock.advance(901_000);
    const { header, payload } = parts(user.token);
    assertRefused(
      await status(t.app, `${header}.${payload}.${b64url('not a signature')}`),
      'invalid_token',
    );
  });
});

describe('GET /auth/status over real HTTP with oversized headers', () => {
  let t: TestApp;
  let port: number;
  before(async () => {
    t = await createTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
  });
  after(() => t.close());

  function get(authorization: string): Promise<{ statusCode: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/auth/status',
          method: 'GET',
          headers: { authorization },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('a token between 8 KB and the header limit is refused with invalid_token', async () => {
    const res = await get(`Bearer ${randomBytes(9000).toString('base64url')}`);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal((JSON.parse(res.body) as Json)['code'], 'invalid_token');
  });

  test('an Authorization header past the header limit answers 431 or 401, never 5xx', async () => {
    for (const size of [20_000, 64_000, 200_000]) {
      const res = await get(`Bearer ${'a'.repeat(size)}`);
      assert.ok(
        [401, 431].includes(res.statusCode),
        `${size} bytes: ${res.statusCode} ${res.body}`,
      );
      const body = JSON.parse(res.body) as Json;
      assert.equal(body['status'], 'fail');
      assert.equal(
        body['code'],
        res.statusCode === 431 ? 'request_header_too_large' : 'invalid_token',
      );
    }
    // The server is still there afterwards.
    const health = await get('Bearer x');
    assert.equal(health.statusCode, 401);
  });
});

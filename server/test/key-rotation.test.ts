import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  createTestApp,
  createTestClock,
  createTestDatabase,
  jwtClaims,
  logIn,
  registerUser,
  status,
  type TestApp,
} from './support/test-app.ts';
import type { TestDatabase } from './support/test-database.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

/** Runs the operator command the README documents, on the given database. */
function latchkey(command: string, database: TestDatabase) {
  return spawnSync(process.execPath, [CLI, command], {
    env: { PATH: process.env['PATH'] ?? '', ...database.env, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const kidOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string })
    .kid;

describe('signing key rotation', () => {
  let database: TestDatabase;
  let t: TestApp;
  let other: TestApp;

  before(async () => {
    // Rotation stamps real time, so these instances run on a clock that starts now.
    const clock = createTestClock(Date.now());
    database = await createTestDatabase();
    t = await createTestApp({ store: await database.open(), clock });
    other = await createTestApp({ store: await database.open(), clock });
  });
  after(async () => {
    await other.close();
    await t.close();
    await t.store.close();
    await other.store.close();
    await database.remove();
  });

  test('rotate-keys keeps old tokens valid, signs new ones with the new key, and drops the old key after the token lifetime', async () => {
    const user = await registerUser(t.app);
    const oldKid = kidOf(user.token);

    const rotated = latchkey('rotate-keys', database);
    assert.equal(rotated.status, 0, rotated.stderr);
    const newKid = /New signing key (\S+) is active/.exec(rotated.stdout)?.[1];
    assert.ok(newKid, rotated.stdout);
    assert.notEqual(newKid, oldKid);

    // An instance that has not reloaded its keys yet still verifies the old token, and picks up
    // the new key the moment it sees a token signed with it.
    assert.equal((await status(t.app, user.token)).statusCode, 200);
    await t.app.inject({ method: 'GET', url: '/health' });
    const fresh = await logIn(other.app, user.email);
    const freshKid = kidOf(fresh.token);
    assert.ok(freshKid === newKid || freshKid === oldKid);
    assert.equal((await status(t.app, fresh.token)).statusCode, 200);

    t.clock.advance(1000); // the JWKS re-reads keys at most once a second
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
      keys: { kid: string }[];
    };
    assert.deepEqual(new Set(jwks.keys.map((k) => k.kid)), new Set([oldKid, newKid]));

    // A freshly started instance signs with the new key.
    const restarted = await createTestApp({
      store: await database.open(),
      clock: t.clock,
    });
    try {
      const third = await logIn(restarted.app, user.email);
      assert.equal(kidOf(third.token), newKid);
      assert.equal(jwtClaims(third.token).sub, jwtClaims(user.token).sub);
      assert.equal((await status(t.app, third.token)).statusCode, 200);

      // After the access-token lifetime, plus the 5 s an instance may still sign with a retired
      // key, the retired key leaves the JWKS of a reloaded instance. The CLI stamped the
      // retirement with real time, so this counts from now (the CLI may have taken seconds).
      t.clock.set(Date.now() + 906_000);
      const later = (
        await restarted.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
      ).json() as { keys: { kid: string }[] };
      assert.deepEqual(
        later.keys.map((k) => k.kid),
        [newKid],
      );
    } finally {
      await restarted.close();
      await restarted.store.close();
    }
  });

  test('migrate reports an up-to-date database and changes nothing', () => {
    const result = latchkey('migrate', database);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /up to date/);
  });

  test('an unknown command prints the usage and fails', () => {
    const result = latchkey('frobnicate', database);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /rotate-keys/);
  });
});

describe('seamless key rotation (v2)', () => {
  test('a token signed with a key retired meanwhile verifies on every instance until its own exp', async (ctx) => {
    const database = await createTestDatabase();
    const clock = createTestClock();
    const a = await createTestApp({ store: await database.open(), clock });
    const b = await createTestApp({ store: await database.open(), clock });
    ctx.after(async () => {
      await a.close();
      await b.close();
      await a.store.close();
      await b.store.close();
      await database.remove();
    });
    const user = await registerUser(a.app);
    const oldKid = kidOf(user.token);

    // B rotates; A read its keys less than a second ago, so it still signs with the retired key.
    const newKid = await b.services.accessTokens.rotateKeys();
    clock.advance(500);
    const late = await logIn(a.app, user.email);
    assert.equal(kidOf(late.token), oldKid);

    // Just before that token's own expiry, both instances (keys reloaded) still accept it.
    const exp = jwtClaims(late.token)['exp'] as number;
    clock.set(exp * 1000 - 1000);
    await a.services.accessTokens.loadKeys();
    await b.services.accessTokens.loadKeys();
    for (const [name, app] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const res = await status(app.app, late.token);
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
    }
    // A's keys were reloaded: it signs with the new key.
    assert.equal(kidOf((await logIn(a.app, user.email)).token), newKid);
  });

  test('a running instance signs with a key rotated by the CLI a second later', async (ctx) => {
    const database = await createTestDatabase();
    const t = await createTestApp({ store: await database.open() });
    ctx.after(async () => {
      await t.close();
      await t.store.close();
      await database.remove();
    });
    const user = await registerUser(t.app);
    const rotated = latchkey('rotate-keys', database);
    assert.equal(rotated.status, 0, rotated.stderr);
    const newKid = /New signing key (\S+) is active/.exec(rotated.stdout)?.[1];
    t.clock.advance(1000);
    assert.equal(kidOf((await logIn(t.app, user.email)).token), newKid);
  });
});

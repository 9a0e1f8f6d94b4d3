import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createKeySealer } from '../src/services/key-sealer.ts';
import type { Store } from '../src/store/store.ts';
import {
  createTestApp,
  createTestDatabase,
  registerUser,
  status,
  testEngine,
} from './support/test-app.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');

/** The private key's secret scalar (`d`), read through the sealer the way the server reads it. */
async function privateScalars(store: Store, key: string | undefined): Promise<string[]> {
  const sealer = createKeySealer(key === undefined ? undefined : Buffer.from(key, 'base64'));
  return (await store.listSigningKeys()).map(
    (k) => (JSON.parse(sealer.open(k.privateJwk, k.kid)) as { d: string }).d,
  );
}

/** Every byte SQLite has written for the database: the file and its write-ahead log. */
function rawSqliteBytes(dataDir: string): string {
  return ['latchkey.sqlite', 'latchkey.sqlite-wal']
    .map((file) => join(dataDir, file))
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path).toString('latin1'))
    .join('');
}

describe('signing keys at rest (KEY_ENCRYPTION_KEY)', () => {
  test('with the key set, no private key is stored readable, and tokens work', async (ctx) => {
    const database = await createTestDatabase();
    const t = await createTestApp({
      store: await database.open(),
      env: { KEY_ENCRYPTION_KEY: KEY },
    });
    ctx.after(async () => {
      await t.close();
      await t.store.close();
      await database.remove();
    });
    const user = await registerUser(t.app);
    assert.equal((await status(t.app, user.token)).statusCode, 200);
    const rows = await t.store.listSigningKeys();
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.match(row.privateJwk, /^aes256gcm\.v1\./);
      assert.doesNotMatch(row.privateJwk, /"d"/);
    }
    const scalars = await privateScalars(t.store, KEY);
    if (testEngine === 'sqlite') {
      const dataDir = database.env['DATA_DIR'];
      assert.ok(dataDir !== undefined);
      const raw = rawSqliteBytes(dataDir);
      assert.ok(raw.length > 0);
      for (const d of scalars) assert.ok(!raw.includes(d), 'the secret scalar is not on disk');
    }
  });

  test('plain keys are sealed at the first start with the key; their tokens keep working', async (ctx) => {
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    const plain = await createTestApp({ store: await database.open() });
    const user = await registerUser(plain.app);
    const before = await privateScalars(plain.store, undefined);
    assert.doesNotMatch((await plain.store.listSigningKeys())[0]?.privateJwk ?? '', /^aes256gcm/);
    await plain.close();
    await plain.store.close();

    const sealed = await createTestApp({
      store: await database.open(),
      clock: plain.clock,
      env: { KEY_ENCRYPTION_KEY: KEY },
    });
    ctx.after(async () => {
      await sealed.close();
      await sealed.store.close();
    });
    for (const row of await sealed.store.listSigningKeys()) {
      assert.match(row.privateJwk, /^aes256gcm\.v1\./);
    }
    // The same key, now sealed: a token it signed before still verifies, new ones are signed.
    assert.deepEqual(await privateScalars(sealed.store, KEY), before);
    assert.equal((await status(sealed.app, user.token)).statusCode, 200);
    assert.equal((await registerUser(sealed.app)).token.split('.').length, 3);
  });

  test('a start without the key, or with another one, fails with a clear message', async (ctx) => {
    const database = await createTestDatabase();
    ctx.after(() => database.remove());
    const first = await createTestApp({
      store: await database.open(),
      env: { KEY_ENCRYPTION_KEY: KEY },
    });
    await first.close();
    await first.store.close();
    const starts: Record<string, string>[] = [{}, { KEY_ENCRYPTION_KEY: OTHER_KEY }];
    for (const env of starts) {
      const store = await database.open();
      try {
        await assert.rejects(createTestApp({ store, env }), /KEY_ENCRYPTION_KEY/);
      } finally {
        await store.close();
      }
    }
  });
});

/**
 * Housekeeping: every instance reloads signing keys each round, but the database is pruned by one
 * instance at a time (an atomic lease), and another takes over when that one stops.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createHash } from 'node:crypto';
import { createTestApp, refreshWith, registerUser, type TestApp } from './support/test-app.ts';

const HOUR_MS = 3600 * 1000;
const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

let instances: TestApp[];
beforeEach(async () => {
  const first = await createTestApp();
  const others = await Promise.all(
    Array.from({ length: 2 }, () =>
      createTestApp({ store: first.store, keepStore: true, clock: first.clock }),
    ),
  );
  instances = [...others, first];
});
afterEach(async () => {
  for (const instance of instances) await instance.close();
});

test('housekeeping prunes on one instance at a time, and another takes over the next round', async () => {
  const [first] = instances.slice(-1);
  assert.ok(first);
  const user = await registerUser(first.app);
  // Rotated, then left to expire: something for a prune to remove.
  assert.equal((await refreshWith(first.app, user.refresh)).statusCode, 200);
  first.clock.advance(15 * 24 * HOUR_MS);

  for (let round = 0; round < 3; round++) {
    const pruned = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        instances[i % instances.length]?.services.housekeeping.runOnce(),
      ),
    );
    assert.equal(pruned.filter(Boolean).length, 1, `round ${round}: one prune, got ${pruned}`);
    first.clock.advance(60_000);
  }
  assert.equal(await first.store.findRefreshToken(hash(user.refresh)), undefined, 'pruned');
});

test('a housekeeping round within the lease of another instance does not prune', async () => {
  const [a, b] = instances;
  assert.ok(a && b);
  assert.equal(await a.services.housekeeping.runOnce(), true);
  a.clock.advance(30_000);
  assert.equal(await b.services.housekeeping.runOnce(), false);
  assert.equal(await a.services.housekeeping.runOnce(), false);
  a.clock.advance(30_000);
  assert.equal(await b.services.housekeeping.runOnce(), true, 'the lease ended: b takes over');
});

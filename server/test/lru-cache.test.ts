import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLruCache } from '../src/services/lru-cache.ts';

describe('the verified-token cache (LRU)', () => {
  test('a full cache drops the entry used least recently, not the oldest one', () => {
    const cache = createLruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1); // a is now the most recently used
    cache.set('c', 3);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('c'), 3);
    assert.equal(cache.size, 2);
  });

  test('an entry in constant use survives a flood of entries used once', () => {
    const cache = createLruCache<string, number>(100);
    cache.set('hot', 0);
    for (let i = 0; i < 10_000; i += 1) {
      assert.equal(cache.get('hot'), 0, `lost after ${i} others`);
      cache.set(`once-${i}`, i);
    }
    assert.equal(cache.size, 100);
    assert.equal(cache.get('once-0'), undefined);
  });

  test('setting a key again replaces its value without growing the cache', () => {
    const cache = createLruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('a', 2);
    cache.set('b', 3);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a'), 2);
  });

  test('a cache refuses a size below one', () => {
    assert.throws(() => createLruCache(0), RangeError);
    assert.throws(() => createLruCache(1.5), RangeError);
  });
});

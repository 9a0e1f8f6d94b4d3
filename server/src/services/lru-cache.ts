/** A bounded map that forgets the entry used least recently once it is full. */
export interface LruCache<K, V> {
  /** The value, which becomes the most recently used; undefined when absent. */
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
  readonly size: number;
}

/**
 * A least-recently-used cache on a Map, which keeps insertion order: a hit moves its entry to the
 * end (delete, then set again), and a full cache drops the first entry, the one used longest ago.
 * Both are O(1), with no list of its own to keep.
 */
export function createLruCache<K, V>(capacity: number): LruCache<K, V> {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a whole number of at least 1 (got ${capacity})`);
  }
  const entries = new Map<K, V>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      entries.delete(key);
      if (entries.size >= capacity) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, value);
    },
    delete: (key) => void entries.delete(key),
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}

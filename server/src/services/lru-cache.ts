/** A bounded map that forgets an entry not used lately once it is full. */
export interface LruCache<K, V> {
  /** The value, marked as used; undefined when absent. */
  get(key: K): V | undefined;
  set(key: K, value: V): void;
  delete(key: K): void;
  clear(): void;
  readonly size: number;
}

interface Slot<V> {
  value: V;
  /** Used since it was inserted or last given its second chance. */
  used: boolean;
}

/**
 * Least recently used, approximated by CLOCK ("second chance", as operating systems evict pages)
 * on a Map, which keeps insertion order. A hit only sets a flag on its entry: moving the entry to
 * the end (delete, then set again) on every hit made V8 rebuild the Map's table over and over,
 * and the status load's peak RSS grew by about 100 MB (issue 14). A full cache looks at its
 * oldest entries: one used since its last chance moves to the end with the flag cleared, the first
 * one unused is dropped. A token in constant use therefore stays; one used once goes first. Both
 * operations are O(1) amortized: each entry is moved at most once per hit.
 */
export function createLruCache<K, V>(capacity: number): LruCache<K, V> {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`capacity must be a whole number of at least 1 (got ${capacity})`);
  }
  const slots = new Map<K, Slot<V>>();
  const evictOne = () => {
    for (const [key, slot] of slots) {
      slots.delete(key);
      if (!slot.used) return;
      slot.used = false;
      slots.set(key, slot);
    }
  };
  return {
    get(key) {
      const slot = slots.get(key);
      if (slot === undefined) return undefined;
      slot.used = true;
      return slot.value;
    },
    set(key, value) {
      const slot = slots.get(key);
      if (slot !== undefined) {
        slot.value = value;
        slot.used = true;
        return;
      }
      if (slots.size >= capacity) evictOne();
      slots.set(key, { value, used: false });
    },
    delete: (key) => void slots.delete(key),
    clear: () => slots.clear(),
    get size() {
      return slots.size;
    },
  };
}

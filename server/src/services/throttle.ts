import { AuthError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';

export interface ThrottleOptions {
  store: Store;
  clock: Clock;
}

/** A counter's state after a hit. */
export interface ThrottleHit {
  /** Hits in the current window, this one included. */
  count: number;
  /** Whole seconds until the window ends (at least 1): the Retry-After of a refusal. */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counters shared by every instance (they live in the database), for every limit
 * of the server: per IP and route, per account. Keys are namespaced by the caller (`ip:…`,
 * `login:…`) and must not contain NUL (PostgreSQL text cannot hold it).
 */
export interface Throttle {
  /** Counts one hit of `key` in a window of `windowMs`, starting a new window when the last ended. */
  hit(key: string, windowMs: number): Promise<ThrottleHit>;
  /**
   * Reserve, then work (style rule 11): counts one hit and throws AuthError `rate_limited` (with
   * Retry-After) when it is past `max`. The count is taken atomically by the database, so
   * parallel requests cannot all slip under the limit.
   */
  take(key: string, max: number, windowMs: number, message?: string): Promise<void>;
  /** Hits of `key` in its current window; 0 when it has none. */
  count(key: string): Promise<number>;
  /** Forgets `key`'s count (a success clears an account's failures). */
  clear(key: string): Promise<void>;
}

const secondsUntil = (windowEndsAt: number, now: number) =>
  Math.max(1, Math.ceil((windowEndsAt - now) / 1000));

/** The one throttling service: every limit of the server goes through it. */
export function createThrottle(options: ThrottleOptions): Throttle {
  const { store, clock } = options;
  const hit = async (key: string, windowMs: number): Promise<ThrottleHit> => {
    const now = clock.now();
    const state = await store.hitCounter(key, windowMs, now);
    return { count: state.count, retryAfterSeconds: secondsUntil(state.windowEndsAt, now) };
  };
  return {
    hit,
    async take(key, max, windowMs, message) {
      const { count, retryAfterSeconds } = await hit(key, windowMs);
      if (count > max) throw new AuthError('rate_limited', { retryAfterSeconds, message });
    },
    async count(key) {
      return (await store.readCounter(key, clock.now()))?.count ?? 0;
    },
    clear: (key) => store.deleteCounter(key),
  };
}

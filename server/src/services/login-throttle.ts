import { createHash } from 'node:crypto';
import { AuthError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';

export interface LoginThrottleOptions {
  store: Store;
  clock: Clock;
  maxFailures: number;
  windowSeconds: number;
}

export interface LoginThrottle {
  /** Throws AuthError `rate_limited` (with Retry-After) while the email has too many failures. */
  assertAllowed(email: string): Promise<void>;
  recordFailure(email: string): Promise<void>;
  /** A success clears the count. */
  reset(email: string): Promise<void>;
}

/**
 * Per-account throttling of password guesses (OWASP Authentication Cheat Sheet, "Protect against
 * automated attacks"): after `maxFailures` failures within `windowSeconds` of the first one, the
 * email is refused until the window ends, whatever the password. Unknown emails are counted the
 * same way, so a 429 says nothing about whether an account exists. Counts live in the database,
 * so every instance sees the same ones.
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { store, clock } = options;
  // Counters are keyed by a digest of the email: a fixed-length key whatever the client sends (a
  // NUL character cannot even be stored in PostgreSQL text), and no email address in the table.
  const keyOf = (email: string) =>
    `login:${createHash('sha256').update(email).digest('base64url')}`;
  return {
    async assertAllowed(email) {
      const now = clock.now();
      const counter = await store.readCounter(keyOf(email), now);
      if (counter !== undefined && counter.count >= options.maxFailures) {
        throw new AuthError('rate_limited', {
          message: 'Too many failed attempts for this account. Try again later.',
          retryAfterSeconds: Math.max(1, Math.ceil((counter.windowEndsAt - now) / 1000)),
        });
      }
    },
    async recordFailure(email) {
      await store.hitCounter(keyOf(email), options.windowSeconds * 1000, clock.now());
    },
    async reset(email) {
      await store.deleteCounter(keyOf(email));
    },
  };
}

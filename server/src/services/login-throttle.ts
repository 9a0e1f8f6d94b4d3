import { createHash } from 'node:crypto';
import { CAUSE_MESSAGES } from '../errors.ts';
import type { Throttle } from './throttle.ts';

export interface LoginThrottleOptions {
  throttle: Throttle;
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
 * same way, so a 429 says nothing about whether an account exists. Counts live in the database
 * (through the throttle service), so every instance sees the same ones.
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { throttle } = options;
  // Counters are keyed by a digest of the email: a fixed-length key whatever the client sends (a
  // NUL character cannot even be stored in PostgreSQL text), and no email address in the table.
  const keyOf = (email: string) =>
    `login:${createHash('sha256').update(email).digest('base64url')}`;
  return {
    assertAllowed: (email) =>
      throttle.assertBelow(keyOf(email), options.maxFailures, CAUSE_MESSAGES.accountThrottled),
    async recordFailure(email) {
      await throttle.hit(keyOf(email), options.windowSeconds * 1000);
    },
    reset: (email) => throttle.clear(keyOf(email)),
  };
}

import { createHash } from 'node:crypto';
import { CAUSE_MESSAGES } from '../errors.ts';
import type { Throttle } from './throttle.ts';

export interface LoginThrottleOptions {
  throttle: Throttle;
  maxFailures: number;
  windowSeconds: number;
}

export interface LoginThrottle {
  /**
   * Takes one password attempt for the account before the password is checked; throws AuthError
   * `rate_limited` (with Retry-After) once `maxFailures` attempts are in the window. An attempt
   * that fails simply stays counted.
   */
  reserveAttempt(email: string): Promise<void>;
  /** A success clears the count. */
  recordSuccess(email: string): Promise<void>;
}

/**
 * Per-account throttling of password guesses (OWASP Authentication Cheat Sheet, "Protect against
 * automated attacks"): after `maxFailures` failures within `windowSeconds` of the first one, the
 * email is refused until the window ends, whatever the password. Unknown emails are counted the
 * same way, so a 429 says nothing about whether an account exists.
 *
 * Reserve, then work (style rule 11): each attempt is counted by one atomic upsert in the
 * database before the ~10 ms hash, and refused when the count is past the limit. A read-then-
 * write check let 194 of 200 parallel guesses through in review (issue 9); with the reservation
 * at most `maxFailures` of any number of parallel attempts reach the hash, on one instance or
 * spread over several (the counter lives in the shared database).
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const { throttle } = options;
  // Counters are keyed by a digest of the email: a fixed-length key whatever the client sends (a
  // NUL character cannot even be stored in PostgreSQL text), and no email address in the table.
  const keyOf = (email: string) =>
    `login:${createHash('sha256').update(email).digest('base64url')}`;
  return {
    reserveAttempt: (email) =>
      throttle.take(
        keyOf(email),
        options.maxFailures,
        options.windowSeconds * 1000,
        CAUSE_MESSAGES.accountThrottled,
      ),
    recordSuccess: (email) => throttle.clear(keyOf(email)),
  };
}

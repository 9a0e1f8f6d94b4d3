import { createHash, randomBytes } from 'node:crypto';
import { AuthError, CAUSE_MESSAGES } from '../errors.ts';
import type { Throttle } from './throttle.ts';

export interface LoginThrottleOptions {
  throttle: Throttle;
  maxFailures: number;
  windowSeconds: number;
}

/** What the attempt was counted against: the account, or a device cookie of the account. */
export type AttemptPass = { by: 'account' } | { by: 'device'; device: string };

export interface LoginThrottle {
  /**
   * Takes one password attempt before the password is checked; throws AuthError `rate_limited`
   * (with Retry-After) once `maxFailures` attempts are in the window. An attempt that fails
   * simply stays counted. With a live device cookie of this account (`device`, `userId`), the
   * attempt counts against that cookie instead of the account; a spent cookie counts as none.
   */
  reserveAttempt(email: string, device?: DeviceClaim): Promise<AttemptPass>;
  /** A success clears the account's count. */
  recordSuccess(email: string): Promise<void>;
  /**
   * After a successful login: renews the device cookie the attempt went through (its count back
   * to none), or issues a new one bound to the account; returns the cookie's value.
   */
  rememberDevice(userId: string, pass: AttemptPass): Promise<string>;
}

/** A device cookie presented with a login, and the account the login names (if it exists). */
export interface DeviceClaim {
  token: string;
  userId: string | undefined;
}

/** OWASP "Slow brute force / device cookies": a device cookie lives a year. */
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 86_400;
const DEVICE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

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
  // A device cookie's record is a counter row bound to one account: issued at 1, each attempt
  // through it adds one, spent past 1 + maxFailures. Only a digest of the cookie is stored.
  const deviceKeyOf = (token: string, userId: string) =>
    `device:${userId}:${createHash('sha256').update(token).digest('base64url')}`;
  const deviceWindowMs = DEVICE_COOKIE_MAX_AGE_SECONDS * 1000;
  const reserveForAccount = (email: string) =>
    throttle.take(
      keyOf(email),
      options.maxFailures,
      options.windowSeconds * 1000,
      CAUSE_MESSAGES.accountThrottled,
    );

  return {
    async reserveAttempt(email, device) {
      if (device?.userId !== undefined && DEVICE_TOKEN_PATTERN.test(device.token)) {
        const key = deviceKeyOf(device.token, device.userId);
        if ((await throttle.count(key)) > 0) {
          try {
            await throttle.take(key, 1 + options.maxFailures, deviceWindowMs);
            return { by: 'device', device: device.token };
          } catch (error) {
            if (!(error instanceof AuthError)) throw error;
            // Spent: the login goes on as one without a device cookie.
          }
        }
      }
      await reserveForAccount(email);
      return { by: 'account' };
    },
    recordSuccess: (email) => throttle.clear(keyOf(email)),
    async rememberDevice(userId, pass) {
      const token = pass.by === 'device' ? pass.device : randomBytes(32).toString('base64url');
      const key = deviceKeyOf(token, userId);
      await throttle.clear(key);
      await throttle.hit(key, deviceWindowMs);
      return token;
    },
  };
}

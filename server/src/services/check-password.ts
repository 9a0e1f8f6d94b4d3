import type { UserRecord } from '../store/store.ts';
import { isPlausiblePassword, normalizePassword } from './credential-rules.ts';
import type { PasswordHasher } from './password-hasher.ts';

/**
 * Verifies a password against a user, or does the same work against a dummy hash when there is
 * no user or the password cannot be one (style rule 5: an unknown email and a wrong password cost
 * the same). Every path that checks a password goes through here.
 */
export async function checkPassword(
  hasher: PasswordHasher,
  user: UserRecord | undefined,
  password: string,
): Promise<boolean> {
  if (user === undefined || !isPlausiblePassword(password)) {
    return hasher.verifyDummy(normalizePassword(password));
  }
  return hasher.verify(user.passwordHash, normalizePassword(password));
}

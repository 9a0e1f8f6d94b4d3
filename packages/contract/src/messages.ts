/**
 * Messages fixed by the contract (clients of the original flask-jwt-auth API match on them), and
 * the other success messages of the API, so each is written once.
 *
 * @example
 * ```ts
 * if (body.message === MESSAGES.loggedIn) showWelcome();
 * ```
 */
export const MESSAGES = {
  registered: 'Successfully registered.',
  loggedIn: 'Successfully logged in.',
  loggedOut: 'Successfully logged out.',
  invalidCredentials: 'Invalid email or password.',
  emailTaken: 'User already exists. Please log in.',
  missingToken: 'Provide a valid auth token.',
  invalidToken: 'Invalid token. Please log in again.',
  tokenExpired: 'Signature expired. Please log in again.',
  tokenRevoked: 'Token revoked. Please log in again.',
  passwordChanged: 'Password changed. Your other sessions have been signed out.',
  sessionEnded: 'Session ended.',
  registeredVerifyEmail:
    'Successfully registered. Check your email for a link to verify your address.',
  verificationSent: 'A verification link is on its way to your email address.',
  alreadyVerified: 'Your email address is already verified.',
  emailVerified: 'Your email address is verified.',
  resetRequested:
    'If an account exists for that address, a link to reset its password is on its way.',
  passwordReset: 'Your password has been reset. Every session has been signed out; log in again.',
  emailChangeRequested:
    'A confirmation link is on its way to the new address; your email changes once you follow it.',
  emailChanged: 'Your email address has been changed.',
  mfaRequired: 'Enter the code from your authenticator app to finish signing in.',
  totpEnabled: 'Two-step sign-in is on. Keep your recovery codes somewhere safe.',
  totpRemoved: 'Two-step sign-in is off.',
  accountDisabled: 'The account is disabled; its sessions have ended.',
  accountEnabled: 'The account is enabled.',
  accountDeleted: 'The account is deleted.',
  secondFactorsReset: 'The account’s second factors are removed and its sessions have ended.',
  adminGranted: 'The account is an administrator now.',
  adminRemoved: 'The account is no longer an administrator.',
} as const;

/**
 * The refresh cookie's name; it is HttpOnly, so a browser app never reads it.
 *
 * @example
 * ```ts
 * reply.setCookie(REFRESH_COOKIE_NAME, token, attributes);
 * ```
 */
export const REFRESH_COOKIE_NAME = 'latchkey_refresh';

/**
 * The device cookie's name (OWASP "device cookies"): set by a successful login, HttpOnly, it lets
 * the owner's browser sign in while strangers' failures have locked the account.
 *
 * @example
 * ```ts
 * reply.setCookie(DEVICE_COOKIE_NAME, token, attributes);
 * ```
 */
export const DEVICE_COOKIE_NAME = 'latchkey_device';

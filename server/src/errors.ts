import { type ErrorCode, MESSAGES } from '@latchkey/contract';

/**
 * The one table of failure messages: a sentence a person can act on for every code (the fixed
 * ones of the contract come from `MESSAGES`), and the sentences for more specific causes. An
 * AuthError carries one of these as its `message`, so a log line and a failure body read the same.
 */
export const ERROR_MESSAGES = {
  bad_request: 'The request could not be read.',
  validation_failed: 'Some fields are missing or invalid.',
  unsupported_media_type: 'Send the body as JSON with Content-Type: application/json.',
  payload_too_large: 'The request body is larger than 16 KiB.',
  not_found: 'Nothing here.',
  method_not_allowed: 'This method is not allowed here.',
  email_taken: MESSAGES.emailTaken,
  invalid_credentials: MESSAGES.invalidCredentials,
  mfa_required: 'Enter a code from your authenticator app, or a recovery code.',
  invalid_mfa_code: 'That code is not valid. Enter the current code from your authenticator app.',
  invalid_mfa_token: 'This sign-in has expired. Enter your email and password again.',
  missing_token: MESSAGES.missingToken,
  invalid_token: MESSAGES.invalidToken,
  token_expired: MESSAGES.tokenExpired,
  token_revoked: MESSAGES.tokenRevoked,
  invalid_refresh_token: 'Your session has ended. Please log in again.',
  origin_rejected: 'This request must come from the app’s own origin.',
  email_not_verified: 'Verify your email address first: follow the link we sent you.',
  account_disabled: 'This account has been disabled. Contact the administrator.',
  forbidden: 'Only administrators may do this.',
  invalid_email_token:
    'This link is invalid or has expired, or a newer one was sent. Ask for a new one.',
  rate_limited: 'Too many requests. Try again later.',
  request_header_too_large: 'The request headers are too large.',
  request_timeout: 'The request took too long to arrive. Send it again.',
  service_unavailable: 'The service is temporarily unavailable. Try again shortly.',
  internal_error: 'Something went wrong on our side.',
} as const satisfies Record<ErrorCode, string>;

/** Sentences for a more specific cause than the code's own message. */
export const CAUSE_MESSAGES = {
  accountThrottled: 'Too many failed attempts for this account. Try again later.',
  noSuchSession: 'No such session.',
  hashQueueFull: 'The server is busy checking passwords. Try again in a moment.',
  mailThrottled: 'We sent you a mail a moment ago. Wait a minute before asking for another.',
} as const;

export interface AuthErrorOptions {
  /** Field name → what is wrong with it (validation failures). */
  fields?: Record<string, string>;
  /** Seconds a client should wait (rate limits, unavailable database). */
  retryAfterSeconds?: number;
  /** A more specific sentence than the code's: from CAUSE_MESSAGES, or built from `fields`. */
  message?: string;
  cause?: unknown;
}

/**
 * The one error type of the server. Services throw it with a stable code; the HTTP error handler
 * turns the code into a status (one table, in the contract) and a failure body (one shape) whose
 * message is this error's `message`: always a sentence, never the bare code.
 */
export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly fields: Record<string, string> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: AuthErrorOptions = {}) {
    super(options.message ?? ERROR_MESSAGES[code], { cause: options.cause });
    this.name = 'AuthError';
    this.code = code;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

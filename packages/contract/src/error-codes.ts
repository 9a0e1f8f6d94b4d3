/**
 * Every error code the server can answer with, and the one HTTP status each one has. Codes are
 * stable API: clients branch on them, never on the human message.
 *
 * @example
 * ```ts
 * if (ERROR_STATUS[body.code] === 401) await refresh();
 * ```
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  not_found: 404,
  method_not_allowed: 405,
  email_taken: 409,
  invalid_credentials: 401,
  mfa_required: 401,
  invalid_mfa_code: 401,
  invalid_mfa_token: 401,
  missing_token: 401,
  invalid_token: 401,
  token_expired: 401,
  token_revoked: 401,
  invalid_refresh_token: 401,
  origin_rejected: 403,
  email_not_verified: 403,
  account_disabled: 403,
  forbidden: 403,
  invalid_email_token: 400,
  rate_limited: 429,
  request_header_too_large: 431,
  request_timeout: 408,
  service_unavailable: 503,
  internal_error: 500,
} as const;

/**
 * One of the codes of {@link ERROR_STATUS}.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'token_expired';
 * ```
 */
export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Every error code, in the order of {@link ERROR_STATUS}.
 *
 * @example
 * ```ts
 * if (ERROR_CODES.includes(body.code)) console.log('known failure', body.code);
 * ```
 */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as readonly ErrorCode[];

/**
 * Tells whether a string is a known {@link ErrorCode}.
 *
 * @example
 * ```ts
 * isErrorCode('token_revoked'); // true
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_STATUS, value);
}

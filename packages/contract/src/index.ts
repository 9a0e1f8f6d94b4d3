/**
 * The Latchkey wire contract (v1): the shapes both the server and its clients rely on.
 *
 * This package holds types and a few constants only, so a browser bundle that imports it stays
 * tiny. The prose version lives in `docs/api.md`.
 *
 * @example
 * ```ts
 * import { type FailureBody, isErrorCode } from '@latchkey/contract';
 * const body = (await res.json()) as FailureBody;
 * if (isErrorCode(body.code) && body.code === 'token_expired') await refresh();
 * ```
 */

/**
 * Every error code the server can answer with. Codes are stable API: clients branch on them,
 * never on the human message.
 *
 * @example
 * ```ts
 * if (ERROR_CODES.includes(body.code)) console.log('known failure', body.code);
 * ```
 */
export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unsupported_media_type',
  'payload_too_large',
  'not_found',
  'method_not_allowed',
  'email_taken',
  'invalid_credentials',
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
  'invalid_refresh_token',
  'origin_rejected',
  'rate_limited',
  'request_header_too_large',
  'service_unavailable',
  'internal_error',
] as const;

/**
 * One of {@link ERROR_CODES}.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'token_expired';
 * ```
 */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Tells whether a string is a known {@link ErrorCode}.
 *
 * @example
 * ```ts
 * isErrorCode('token_revoked'); // true
 * ```
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Messages fixed by the contract (clients of the original flask-jwt-auth API match on them).
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
} as const;

/** The refresh cookie's name; it is HttpOnly, so a browser app never reads it. */
export const REFRESH_COOKIE_NAME = 'latchkey_refresh';

/**
 * The body of every failed `/auth` response.
 *
 * @example
 * ```ts
 * const failure: FailureBody = { status: 'fail', code: 'rate_limited', message: 'Too many requests.' };
 * ```
 */
export interface FailureBody {
  status: 'fail';
  code: ErrorCode;
  message: string;
  /** Present on `validation_failed`: field name → what is wrong with it. */
  fields?: Record<string, string>;
}

/**
 * Body of `POST /auth/register` and `POST /auth/login`.
 *
 * @example
 * ```ts
 * const body: Credentials = { email: 'ada@example.com', password: 'correct horse battery' };
 * ```
 */
export interface Credentials {
  email: string;
  password: string;
}

/**
 * Body of `POST /auth/password`.
 *
 * @example
 * ```ts
 * const body: PasswordChange = { current_password: 'old one', new_password: 'a new long one' };
 * ```
 */
export interface PasswordChange {
  current_password: string;
  new_password: string;
}

/**
 * A freshly issued access token (register, login, refresh).
 *
 * @example
 * ```ts
 * headers.set('Authorization', `${res.token_type} ${res.auth_token}`);
 * ```
 */
export interface TokenBody {
  status: 'success';
  message?: string;
  auth_token: string;
  token_type: 'Bearer';
  /** Lifetime of `auth_token` in seconds. */
  expires_in: number;
}

/**
 * The signed-in user, as `GET /auth/status` returns it.
 *
 * @example
 * ```ts
 * const since = new Date(user.registered_on);
 * ```
 */
export interface UserData {
  user_id: string;
  email: string;
  admin: boolean;
  /** ISO 8601, UTC. */
  registered_on: string;
}

/**
 * Body of `GET /auth/status`.
 *
 * @example
 * ```ts
 * const { data } = (await res.json()) as StatusBody;
 * ```
 */
export interface StatusBody {
  status: 'success';
  data: UserData;
}

/**
 * One session of the signed-in user (`GET /auth/sessions`). Times are ISO 8601, UTC.
 *
 * @example
 * ```ts
 * const others = body.data.filter((s: SessionData) => !s.current);
 * ```
 */
export interface SessionData {
  /** Equals the `sid` claim of this session's access tokens. */
  id: string;
  created_at: string;
  /** The last sign-in or refresh of this session. */
  last_used_at: string;
  /** When the session ends if it is not refreshed again before then. */
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
  /** True for the session of the token that made the request. */
  current: boolean;
}

/**
 * Body of `GET /auth/sessions`.
 *
 * @example
 * ```ts
 * const { data } = (await res.json()) as SessionsBody;
 * ```
 */
export interface SessionsBody {
  status: 'success';
  data: SessionData[];
}

/**
 * Body of a success that carries only a message (logout, session deletion, password change).
 *
 * @example
 * ```ts
 * const ok: MessageBody = { status: 'success', message: 'Successfully logged out.' };
 * ```
 */
export interface MessageBody {
  status: 'success';
  message: string;
}

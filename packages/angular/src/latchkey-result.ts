import { HttpErrorResponse } from '@angular/common/http';
import { type ErrorCode, type FailureBody, isErrorCode } from '@latchkey/contract';

/**
 * The outcome of a Latchkey call: a value, or the server's failure with its stable `code` and
 * human `message` (ready to show in a `role="alert"` element) and per-field errors.
 *
 * `code` is the server's error code when it answered with one. Two codes are the client's own:
 * `network_error` when no answer arrived at all (offline, the server down, or a CORS refusal,
 * which a browser hides from scripts), and `server_error` when something answered with a status
 * but without a Latchkey body (a proxy's 502, an HTML error page).
 *
 * @example
 * ```ts
 * const result = await auth.login(email, password);
 * if (!result.ok) this.error.set(result.message);
 * ```
 */
export type LatchkeyResult<T = void> =
  | { ok: true; value: T }
  | {
      ok: false;
      code: ErrorCode | 'network_error' | 'server_error';
      message: string;
      fields: Record<string, string>;
      /** Seconds to wait before trying again, when the server said so (`Retry-After`). */
      retryAfterSeconds?: number;
    };

/** One home for the client's own failure messages. */
export const CLIENT_MESSAGES = {
  networkError: 'The server could not be reached. Check your connection and try again in a moment.',
  serverError: 'The server had a problem. Try again in a moment.',
  unexpected: 'Something went wrong. Try again in a moment.',
  logoutFailed:
    'You are still signed in: the server could not be reached to end this session. Try again.',
} as const;

/** A failure result from anything an HttpClient call threw. */
export function failureFrom(error: unknown): LatchkeyResult<never> & { ok: false } {
  if (!(error instanceof HttpErrorResponse)) {
    return { ok: false, code: 'server_error', message: CLIENT_MESSAGES.unexpected, fields: {} };
  }
  const retryAfterSeconds = retryAfterSecondsOf(error);
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  const body = error.error as Partial<FailureBody> | null;
  if (body !== null && typeof body === 'object' && isErrorCode(body.code)) {
    return {
      ok: false,
      code: body.code,
      message: typeof body.message === 'string' ? body.message : CLIENT_MESSAGES.unexpected,
      fields: body.fields ?? {},
      ...retry,
    };
  }
  // Status 0: no HTTP answer reached the page. The browser reports a refused CORS request the
  // same way (Fetch standard, "network error"), so the message cannot tell the two apart; the
  // server logs the refused origin instead.
  if (error.status === 0) {
    return { ok: false, code: 'network_error', message: CLIENT_MESSAGES.networkError, fields: {} };
  }
  return {
    ok: false,
    code: 'server_error',
    message: CLIENT_MESSAGES.serverError,
    fields: {},
    ...retry,
  };
}

/** The server's error code of a failed HttpClient call, if it sent one. */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof HttpErrorResponse)) return undefined;
  const code = (error.error as Partial<FailureBody> | null)?.code;
  return isErrorCode(code) ? code : undefined;
}

/**
 * True for failures that say nothing about the session and may pass: no answer (status 0), a
 * timeout (408), a rate limit (429) or a server error (5xx). The session is kept through them.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof HttpErrorResponse)) return false;
  return error.status === 0 || error.status === 408 || error.status === 429 || error.status >= 500;
}

/** `Retry-After` in seconds (RFC 9110 section 10.2.3, the delay-seconds form), if present. */
export function retryAfterSecondsOf(error: HttpErrorResponse): number | undefined {
  const value = error.headers.get('Retry-After');
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

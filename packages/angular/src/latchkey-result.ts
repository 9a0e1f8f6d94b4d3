import { HttpErrorResponse } from '@angular/common/http';
import { type ErrorCode, type FailureBody, isErrorCode } from '@latchkey/contract';

/**
 * The outcome of a Latchkey call: a value, or the server's failure with its stable `code` and
 * human `message` (ready to show in a `role="alert"` element) and per-field errors.
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
      /** The server's error code, or `network_error` when it could not be reached. */
      code: ErrorCode | 'network_error';
      message: string;
      fields: Record<string, string>;
    };

/** A failure result from anything an HttpClient call threw. */
export function failureFrom(error: unknown): LatchkeyResult<never> {
  if (error instanceof HttpErrorResponse) {
    const body = error.error as Partial<FailureBody> | null;
    if (body !== null && typeof body === 'object' && isErrorCode(body.code)) {
      return {
        ok: false,
        code: body.code,
        message: typeof body.message === 'string' ? body.message : 'The request failed.',
        fields: body.fields ?? {},
      };
    }
    if (error.status === 0) {
      return {
        ok: false,
        code: 'network_error',
        message: 'The server could not be reached. Check your connection and try again.',
        fields: {},
      };
    }
  }
  return {
    ok: false,
    code: 'internal_error',
    message: 'Something went wrong. Try again in a moment.',
    fields: {},
  };
}

/** The server's error code of a failed HttpClient call, if it sent one. */
export function errorCodeOf(error: unknown): ErrorCode | undefined {
  if (!(error instanceof HttpErrorResponse)) return undefined;
  const code = (error.error as Partial<FailureBody> | null)?.code;
  return isErrorCode(code) ? code : undefined;
}

import type { ErrorCode } from '@latchkey/contract';

export interface AuthErrorOptions {
  /** Field name → what is wrong with it (validation failures). */
  fields?: Record<string, string>;
  /** Seconds a client should wait (rate limits, unavailable database). */
  retryAfterSeconds?: number;
  /** A message other than the default one for the code. */
  message?: string;
  cause?: unknown;
}

/**
 * The one error type of the server. Services throw it with a stable code; the HTTP error handler
 * turns the code into a status (one table) and a failure body (one shape).
 */
export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly fields: Record<string, string> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: AuthErrorOptions = {}) {
    super(options.message ?? code, { cause: options.cause });
    this.name = 'AuthError';
    this.code = code;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True when the message was given explicitly rather than defaulted to the code. */
  get hasCustomMessage(): boolean {
    return this.message !== this.code;
  }
}

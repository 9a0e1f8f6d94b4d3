import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from './error-codes.ts';

/** The JSON Schema of a failure body whose `code` is one of `codes`. */
export interface FailureSchema<C extends ErrorCode> {
  readonly type: 'object';
  readonly description: string;
  readonly additionalProperties: false;
  readonly required: readonly ['status', 'code', 'message'];
  readonly properties: {
    readonly status: { readonly type: 'string'; readonly const: 'fail' };
    readonly code: {
      readonly type: 'string';
      readonly enum: readonly C[];
      readonly description: string;
    };
    readonly message: { readonly type: 'string'; readonly description: string };
    readonly fields: {
      readonly type: 'object';
      readonly description: string;
      readonly additionalProperties: { readonly type: 'string' };
    };
  };
}

/**
 * The schema of every failure body: `{status:"fail", code, message, fields?}`, `code` limited to
 * `codes`. Written once; the OpenAPI document enumerates each status's codes with it.
 *
 * @example
 * ```ts
 * const unauthorized = failureSchema(['missing_token', 'invalid_token'], 'Not signed in.');
 * ```
 */
export function failureSchema<const C extends ErrorCode>(
  codes: readonly C[],
  description: string,
): FailureSchema<C> {
  return {
    type: 'object',
    description,
    additionalProperties: false,
    required: ['status', 'code', 'message'],
    properties: {
      status: { type: 'string', const: 'fail' },
      code: { type: 'string', enum: codes, description: 'Stable error code; see docs/api.md.' },
      message: { type: 'string', description: 'One human sentence; may be reworded.' },
      fields: {
        type: 'object',
        description: 'On validation_failed: field name → what is wrong with it.',
        additionalProperties: { type: 'string' },
      },
    },
  };
}

/**
 * The body of every failed `/auth` response.
 *
 * @example
 * ```ts
 * const failure: FailureBody = { status: 'fail', code: 'rate_limited', message: 'Too many requests.' };
 * ```
 */
export type FailureBody = FromSchema<JsonSchemaOf<FailureSchema<ErrorCode>>>;

/** Compiles only when T is a JSON Schema: a mistake in FailureSchema fails the build here. */
type JsonSchemaOf<T extends JSONSchema> = T;

type StatusOf<C extends ErrorCode> = (typeof ERROR_STATUS)[C];
type CodesWithStatus<C extends ErrorCode, S> = C extends ErrorCode
  ? StatusOf<C> extends S
    ? C
    : never
  : never;

/** Failure schemas by HTTP status, each enumerating the codes of that status. */
export type FailureResponses<C extends ErrorCode> = {
  readonly [S in StatusOf<C>]: FailureSchema<CodesWithStatus<C, S>>;
};

/** What each status means, as the OpenAPI document describes a failure response. */
const STATUS_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'The request could not be read, or a field is missing or invalid.',
  401: 'Not authenticated: the token, cookie or password was missing or not accepted.',
  403: 'Refused: the request came from an origin this server does not serve.',
  404: 'No such resource.',
  405: 'This method is not allowed here.',
  408: 'The request did not arrive whole in time (REQUEST_TIMEOUT_MS); the connection closes.',
  409: 'Conflicts with existing data.',
  413: 'The request body is larger than 16 KiB.',
  415: 'The body must be JSON, sent with Content-Type: application/json.',
  429: 'Too many requests: wait for the number of seconds in Retry-After.',
  431: 'The request headers are too large.',
  500: 'Something went wrong on the server; the body carries no details.',
  503: 'The database is unavailable: retry after the number of seconds in Retry-After.',
};

/**
 * Groups error codes by their HTTP status into failure schemas, one per status.
 *
 * @example
 * ```ts
 * const response = { 200: okSchema, ...failureResponses(['invalid_credentials', 'rate_limited']) };
 * ```
 */
export function failureResponses<const C extends ErrorCode>(
  codes: readonly C[],
): FailureResponses<C> {
  const byStatus = new Map<number, C[]>();
  // In the order of ERROR_CODES, so documents are stable whatever order `codes` came in.
  for (const code of ERROR_CODES) {
    if (!(codes as readonly ErrorCode[]).includes(code)) continue;
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code as C]);
  }
  const responses: Record<number, FailureSchema<C>> = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[status] = failureSchema(
      statusCodes,
      `${STATUS_DESCRIPTIONS[status] ?? 'Failure.'} Codes: ${statusCodes.join(', ')}.`,
    );
  }
  return responses as FailureResponses<C>;
}

import { ERROR_STATUS, type ErrorCode, type FailureBody } from '@latchkey/contract';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, ERROR_MESSAGES } from '../errors.ts';

/**
 * The one status table: every error code maps to exactly one HTTP status. It is part of the wire,
 * so it lives in the contract (the OpenAPI document enumerates each status's codes from it).
 */
export const STATUS_BY_CODE = ERROR_STATUS satisfies Record<ErrorCode, number>;

/** Codes whose 401 invites the client to present a bearer token (RFC 6750 §3). */
const BEARER_CHALLENGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'missing_token',
  'invalid_token',
  'token_expired',
  'token_revoked',
]);

/** Seconds a client should wait before retrying after a 503. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** Fastify's own errors, by code, as the contract's. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'bad_request',
  // A path parameter longer than any real id (a session id is 36 characters): no such resource.
  FST_ERR_MAX_PARAM_LENGTH: 'not_found',
  FST_ERR_NOT_FOUND: 'not_found',
};

/** Turns anything thrown into an AuthError; unknown errors become `internal_error`. */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    const fields: Record<string, string> = {};
    for (const issue of fastifyError.validation) {
      const missing = issue.params['missingProperty'];
      const path = (
        typeof missing === 'string' ? `${issue.instancePath}/${missing}` : issue.instancePath
      )
        .replace(/^\//, '')
        .replaceAll('/', '.');
      fields[path === '' ? 'body' : path] ??= describeIssue(issue.keyword, issue.params);
    }
    return new AuthError('validation_failed', { fields, cause: error });
  }
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
  if (mapped !== undefined) return new AuthError(mapped, { cause: error });
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AuthError(
      status === 413
        ? 'payload_too_large'
        : status === 415
          ? 'unsupported_media_type'
          : 'bad_request',
      {
        cause: error,
      },
    );
  }
  return new AuthError('internal_error', { cause: error });
}

function describeIssue(keyword: string, params: Record<string, unknown>): string {
  switch (keyword) {
    case 'required':
      return 'This field is required.';
    case 'type': {
      const type = String(params['type']);
      return `Must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}.`;
    }
    case 'maxLength':
      return `Use at most ${String(params['limit'])} characters.`;
    case 'minLength':
      return `Use at least ${String(params['limit'])} characters.`;
    default:
      return 'This value is not allowed.';
  }
}

/** Sends the one failure shape for an AuthError. */
export function sendFailure(reply: FastifyReply, error: AuthError): FastifyReply {
  const status = STATUS_BY_CODE[error.code];
  const body: FailureBody = {
    status: 'fail',
    code: error.code,
    message: error.message,
  };
  if (error.fields !== undefined) body.fields = error.fields;
  if (BEARER_CHALLENGE_CODES.has(error.code)) reply.header('www-authenticate', 'Bearer');
  const retryAfter =
    error.retryAfterSeconds ??
    (error.code === 'service_unavailable' ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * The one error handler: every failure leaves as `{status:"fail", code, message, fields?}`. A 5xx
 * body is generic; its cause goes to the log only.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const authError = toAuthError(error);
    const status = STATUS_BY_CODE[authError.code];
    if (status >= 500) {
      request.log.error({ err: authError.cause ?? authError }, 'request failed');
    } else {
      request.log.info({ code: authError.code }, 'request refused');
    }
    return sendFailure(reply, authError);
  });
}

/** Node's client errors, by code, as the contract's; anything else is a request it could not read. */
const CLIENT_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'request_header_too_large',
  // REQUEST_TIMEOUT_MS ran out before the request arrived whole (a slow or trickling client).
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Errors Node's HTTP server raises before Fastify sees a request (headers over the 16 KiB limit,
 * garbage on the socket, a request that did not arrive in time): answered in the same JSON shape,
 * then the connection is closed.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = CLIENT_ERROR_CODES[error.code ?? ''] ?? 'bad_request';
  const status = STATUS_BY_CODE[code];
  const body = JSON.stringify({
    status: 'fail',
    code,
    message: ERROR_MESSAGES[code],
  } satisfies FailureBody);
  const reason = REASON_PHRASES[status] ?? 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // A slow client may never close its side: the connection is freed once the answer is out.
  if (code === 'request_timeout') socket.destroySoon();
}

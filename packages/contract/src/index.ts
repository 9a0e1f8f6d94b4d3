/**
 * The Latchkey wire contract: JSON Schemas of every body and operation, the types derived from
 * them, error codes with their statuses, and fixed messages. Server routes, the OpenAPI document,
 * the Angular library and the tests all take the wire from here. The prose version lives in
 * `docs/api.md`.
 *
 * Only types and small constants reach a browser bundle that imports it (json-schema-to-ts is
 * imported for types only, and unused schemas are tree-shaken: `sideEffects: false`).
 *
 * @example
 * ```ts
 * import { type FailureBody, isErrorCode } from '@latchkey/contract';
 * const body = (await res.json()) as FailureBody;
 * if (isErrorCode(body.code) && body.code === 'token_expired') await refresh();
 * ```
 */
export * from './error-codes.ts';
export * from './failure-body.ts';
export * from './messages.ts';
export * from './operations.ts';
export * from './schemas.ts';

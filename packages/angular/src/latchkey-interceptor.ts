import type { HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { LatchkeyAuth, sendThroughLatchkey } from './latchkey-auth';

/**
 * Hands every request to {@link LatchkeyAuth}, which holds the one policy: the access token
 * goes to the Latchkey API only (its origin and `/auth/` path; never to another host), with
 * cookies (`withCredentials`, needed when the API is on another origin); a 401 `token_expired`
 * is refreshed once and retried once, parallel requests sharing one refresh; a `token_revoked`
 * answer signs the app out. Requests anywhere else go out untouched.
 *
 * @example
 * ```ts
 * provideHttpClient(withFetch(), withInterceptors([latchkeyInterceptor]));
 * ```
 */
export const latchkeyInterceptor: HttpInterceptorFn = (request, next) =>
  sendThroughLatchkey(inject(LatchkeyAuth), request, next);

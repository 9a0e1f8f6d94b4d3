import { HttpErrorResponse, type HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { catchError, from, switchMap, throwError } from 'rxjs';
import { LatchkeyAuth } from './latchkey-auth';
import { errorCodeOf } from './latchkey-result';

/**
 * Adds the access token to requests for the Latchkey API (its origin only: the token never
 * leaves for another host), sends cookies with them (`withCredentials`, needed when the API is on
 * another origin), and when the server answers 401 `token_expired`, refreshes once and retries
 * once. Parallel requests that expire together share one refresh. A refresh that fails, or a
 * `token_revoked` answer, signs the app out.
 *
 * @example
 * ```ts
 * provideHttpClient(withFetch(), withInterceptors([latchkeyInterceptor]));
 * ```
 */
export const latchkeyInterceptor: HttpInterceptorFn = (request, next) => {
  const auth = inject(LatchkeyAuth);
  if (!auth.isApiUrl(request.url)) return next(request);

  const send = (token: string | null) =>
    next(
      request.clone({
        withCredentials: true,
        ...(token === null ? {} : { setHeaders: { Authorization: `Bearer ${token}` } }),
      }),
    );

  const sentToken = auth.accessTokenFor(request.url);
  return send(sentToken).pipe(
    catchError((error: unknown) => {
      if (!(error instanceof HttpErrorResponse) || error.status !== 401) {
        return throwError(() => error);
      }
      const code = errorCodeOf(error);
      if (code === 'token_expired') {
        // When a refresh finished while this request was in flight, the token has already been
        // replaced: retry with it instead of refreshing again (parallel requests share one
        // refresh even when their 401s arrive after it).
        const current = auth.accessTokenFor(request.url);
        const renewed = current !== null && current !== sentToken;
        return from(renewed ? Promise.resolve(true) : auth.refresh()).pipe(
          switchMap((refreshed) =>
            refreshed ? send(auth.accessTokenFor(request.url)) : throwError(() => error),
          ),
        );
      }
      // Only when the refused token is still the current one: a late answer for a token that has
      // since been replaced (a new sign-in) must not sign the new session out.
      const stillCurrent = sentToken !== null && auth.accessTokenFor(request.url) === sentToken;
      if ((code === 'token_revoked' || code === 'invalid_token') && stillCurrent) {
        auth.handleSessionEnded();
      }
      return throwError(() => error);
    }),
  );
};

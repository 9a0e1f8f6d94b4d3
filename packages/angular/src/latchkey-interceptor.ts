import { HttpErrorResponse, type HttpInterceptorFn, type HttpRequest } from '@angular/common/http';
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

  const send = (req: HttpRequest<unknown>) => {
    const token = auth.accessTokenFor(req.url);
    return next(
      req.clone({
        withCredentials: true,
        ...(token === null ? {} : { setHeaders: { Authorization: `Bearer ${token}` } }),
      }),
    );
  };

  return send(request).pipe(
    catchError((error: unknown) => {
      if (!(error instanceof HttpErrorResponse) || error.status !== 401) {
        return throwError(() => error);
      }
      const code = errorCodeOf(error);
      if (code === 'token_expired') {
        return from(auth.refresh()).pipe(
          switchMap((refreshed) => (refreshed ? send(request) : throwError(() => error))),
        );
      }
      if (code === 'token_revoked' || code === 'invalid_token') auth.handleSessionEnded();
      return throwError(() => error);
    }),
  );
};

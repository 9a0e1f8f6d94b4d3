import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { LatchkeyAuth } from './latchkey-auth';
import { LATCHKEY_CONFIG } from './latchkey-config';

/**
 * Lets signed-in users through; sends others to the login page with `returnUrl` set to where
 * they wanted to go. Waits for the start-up refresh first, so a reload never bounces a
 * signed-in user.
 *
 * @example
 * ```ts
 * { path: 'status', component: StatusPage, canActivate: [authGuard] }
 * ```
 */
export const authGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(LatchkeyAuth);
  const router = inject(Router);
  const { loginPath } = inject(LATCHKEY_CONFIG);
  await auth.whenReady();
  if (auth.isSignedIn()) return true;
  return router.createUrlTree([loginPath], { queryParams: { returnUrl: state.url } });
};

/**
 * Lets signed-out users through (login and register pages); sends signed-in users to the home
 * path. Waits for the start-up refresh first.
 *
 * @example
 * ```ts
 * { path: 'login', component: SignInPage, canActivate: [guestGuard] }
 * ```
 */
export const guestGuard: CanActivateFn = async () => {
  const auth = inject(LatchkeyAuth);
  const router = inject(Router);
  const { homePath } = inject(LATCHKEY_CONFIG);
  await auth.whenReady();
  return auth.isSignedIn() ? router.createUrlTree([homePath]) : true;
};

/**
 * The in-app path to go to after signing in: `returnUrl` when it is a path of this app, else
 * `fallback`. Refuses absolute and protocol-relative URLs (no open redirect).
 *
 * @example
 * ```ts
 * const next = safeReturnUrl(route.snapshot.queryParamMap.get('returnUrl'), '/status');
 * ```
 */
export function safeReturnUrl(returnUrl: string | null | undefined, fallback: string): string {
  if (typeof returnUrl !== 'string') return fallback;
  if (!returnUrl.startsWith('/') || returnUrl.startsWith('//') || returnUrl.includes('\\')) {
    return fallback;
  }
  return returnUrl;
}

import { inject } from '@angular/core';
import { type CanActivateFn, Router } from '@angular/router';
import { LatchkeyAuth } from './latchkey-auth';
import { LATCHKEY_CONFIG } from './latchkey-config';

/**
 * Lets signed-in users through; sends others to the login page (`loginPath`, default `/login`)
 * with `returnUrl` set to where they wanted to go. Waits for the start-up refresh first (also
 * while the server is `unavailable`), so a reload never bounces a signed-in user. Under
 * server-side rendering it neither lets through nor redirects: the state is unknown there, so
 * the page renders its pending state and the browser decides.
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
  if (auth.status() === 'signed-in') return true;
  if (auth.status() !== 'signed-out') return false; // server-side rendering: undecided
  return router.createUrlTree([loginPath], { queryParams: { returnUrl: state.url } });
};

/**
 * Lets admins through; sends other signed-in users to `homePath` and signed-out users to the
 * login page (with `returnUrl`). The server checks the role on every admin request anyway: this
 * guard only keeps others from a page that could not work for them.
 *
 * @example
 * ```ts
 * { path: 'admin', component: AdminPage, canActivate: [adminGuard] }
 * ```
 */
export const adminGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(LatchkeyAuth);
  const router = inject(Router);
  const { loginPath, homePath } = inject(LATCHKEY_CONFIG);
  await auth.whenReady();
  if (auth.status() === 'signed-in') {
    return auth.user()?.admin === true ? true : router.createUrlTree([homePath]);
  }
  if (auth.status() !== 'signed-out') return false; // server-side rendering: undecided
  return router.createUrlTree([loginPath], { queryParams: { returnUrl: state.url } });
};

/**
 * Lets signed-out users through (login and register pages); sends signed-in users to
 * `homePath` (default `/status`: set it to a route your app has). Waits for the start-up
 * refresh first; under server-side rendering it neither lets through nor redirects.
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
  if (auth.status() === 'signed-out') return true;
  if (auth.status() !== 'signed-in') return false; // server-side rendering: undecided
  return router.createUrlTree([homePath]);
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

import { InjectionToken } from '@angular/core';

/**
 * Settings of the Latchkey client.
 *
 * @example
 * ```ts
 * provideLatchkey({ apiUrl: 'https://auth.example.com', loginPath: '/login', homePath: '/status' });
 * ```
 */
export interface LatchkeyConfig {
  /**
   * Origin (and optional path prefix) of the Latchkey server, without a trailing slash. Empty
   * (the default) means the app's own origin. Requests go to `${apiUrl}/auth/...`; the bearer
   * token is sent to this origin only.
   */
  apiUrl?: string;
  /** Where `authGuard` sends signed-out users. Default `/login`. */
  loginPath?: string;
  /** Where `guestGuard` sends signed-in users. Default `/status`. */
  homePath?: string;
}

/** The resolved configuration, every field filled in. */
export interface ResolvedLatchkeyConfig {
  apiUrl: string;
  loginPath: string;
  homePath: string;
}

/**
 * The resolved configuration, provided by {@link provideLatchkey}.
 *
 * @example
 * ```ts
 * const { loginPath } = inject(LATCHKEY_CONFIG);
 * ```
 */
export const LATCHKEY_CONFIG = new InjectionToken<ResolvedLatchkeyConfig>('LATCHKEY_CONFIG', {
  factory: () => resolveLatchkeyConfig({}),
});

/** Fills defaults and drops a trailing slash from `apiUrl`. */
export function resolveLatchkeyConfig(config: LatchkeyConfig): ResolvedLatchkeyConfig {
  return {
    apiUrl: (config.apiUrl ?? '').replace(/\/+$/, ''),
    loginPath: config.loginPath ?? '/login',
    homePath: config.homePath ?? '/status',
  };
}

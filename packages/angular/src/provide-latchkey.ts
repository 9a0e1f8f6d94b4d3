import {
  type EnvironmentProviders,
  inject,
  makeEnvironmentProviders,
  provideEnvironmentInitializer,
} from '@angular/core';
import { LatchkeyAdmin } from './latchkey-admin';
import { LatchkeyAuth } from './latchkey-auth';
import { LATCHKEY_CONFIG, type LatchkeyConfig, resolveLatchkeyConfig } from './latchkey-config';

/**
 * Sets up Latchkey: the auth state ({@link LatchkeyAuth}) and the start-up refresh that runs on
 * every page load. Add {@link latchkeyInterceptor} to `provideHttpClient` as well.
 *
 * @example
 * ```ts
 * export const appConfig: ApplicationConfig = {
 *   providers: [
 *     provideRouter(routes),
 *     provideHttpClient(withFetch(), withInterceptors([latchkeyInterceptor])),
 *     provideLatchkey({ apiUrl: 'https://auth.example.com' }),
 *   ],
 * };
 * ```
 */
export function provideLatchkey(config: LatchkeyConfig = {}): EnvironmentProviders {
  return makeEnvironmentProviders([
    { provide: LATCHKEY_CONFIG, useValue: resolveLatchkeyConfig(config) },
    LatchkeyAuth,
    LatchkeyAdmin,
    // Created at start-up so the silent refresh begins before the first guard asks.
    provideEnvironmentInitializer(() => void inject(LatchkeyAuth)),
  ]);
}

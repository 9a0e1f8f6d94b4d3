import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { latchkeyInterceptor, provideLatchkey } from '@latchkey/angular';
import { routes } from './app.routes';
import type { RuntimeSettings } from './runtime-settings';

export function createAppConfig(settings: RuntimeSettings): ApplicationConfig {
  return {
    providers: [
      provideBrowserGlobalErrorListeners(),
      provideRouter(routes, withComponentInputBinding()),
      provideHttpClient(withFetch(), withInterceptors([latchkeyInterceptor])),
      provideLatchkey({ apiUrl: settings.apiUrl, loginPath: '/login', homePath: '/status' }),
    ],
  };
}

import { provideHttpClient, withFetch, withInterceptors } from '@angular/common/http';
import { type ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter } from '@angular/router';
import { latchkeyInterceptor, provideLatchkey } from '@latchkey/angular';
import { routes } from './app.routes';

export const appConfig: ApplicationConfig = {
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(routes),
    provideHttpClient(withFetch(), withInterceptors([latchkeyInterceptor])),
    // The API is this app's own origin: `ng serve` proxies /auth (proxy.conf.json).
    provideLatchkey({ loginPath: '/login', homePath: '/account' }),
  ],
};

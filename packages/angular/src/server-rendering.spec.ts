/**
 * Server-side rendering of a guarded route, as an SSR server does it (platform-server's
 * renderApplication, which @angular/ssr's engines call): the page renders its pending state,
 * the guards neither let through nor redirect, no request reaches the API (a refresh on the
 * server would rotate the user's refresh token there), and nothing token-like is transferred.
 */
import {
  HttpBackend,
  type HttpEvent,
  type HttpRequest,
  HttpResponse,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import { Component, inject, provideEnvironmentInitializer } from '@angular/core';
import {
  bootstrapApplication,
  type BootstrapContext,
  provideClientHydration,
} from '@angular/platform-browser';
import { provideServerRendering, renderApplication } from '@angular/platform-server';
import { NavigationStart, Router, RouterOutlet, provideRouter } from '@angular/router';
import { type Observable, of } from 'rxjs';
import { authGuard, guestGuard } from './auth-guard';
import { LatchkeyAuth } from './latchkey-auth';
import { latchkeyInterceptor } from './latchkey-interceptor';
import { provideLatchkey } from './provide-latchkey';
import { fakeAccessToken, statusReply, tokenReply } from './testing/server-replies';

const TOKEN = fakeAccessToken({ sub: '7', sid: 'session-1', jti: 'ssr' });

@Component({
  selector: 'app-root',
  imports: [RouterOutlet],
  template: `
    @if (auth.status() === 'unknown') {
      <p id="pending">Checking your session…</p>
    }
    <router-outlet />
  `,
})
class Shell {
  protected readonly auth = inject(LatchkeyAuth);
}

@Component({ template: '<h1 id="account">Your account</h1>' })
class AccountPage {}

@Component({ template: '<h1 id="login">Log in</h1>' })
class LoginPage {}

/**
 * Renders `path` on the "server"; every request the app makes is recorded (and would succeed),
 * and so is every navigation.
 */
async function renderOnServer(
  path: string,
): Promise<{ html: string; requests: string[]; navigations: string[] }> {
  const requests: string[] = [];
  const navigations: string[] = [];
  const backend: HttpBackend = {
    handle(request: HttpRequest<unknown>): Observable<HttpEvent<unknown>> {
      requests.push(`${request.method} ${request.url}`);
      const body = request.url.endsWith('/auth/refresh') ? tokenReply(TOKEN) : statusReply();
      return of(new HttpResponse({ status: 200, body }));
    },
  };
  const html = await renderApplication(
    (context: BootstrapContext) =>
      bootstrapApplication(
        Shell,
        {
          providers: [
            provideServerRendering(),
            provideClientHydration(),
            provideRouter([
              { path: 'account', component: AccountPage, canActivate: [authGuard] },
              { path: 'login', component: LoginPage, canActivate: [guestGuard] },
            ]),
            provideHttpClient(withInterceptors([latchkeyInterceptor])),
            { provide: HttpBackend, useValue: backend },
            provideLatchkey({ loginPath: '/login', homePath: '/account' }),
            provideEnvironmentInitializer(() => {
              inject(Router).events.subscribe((event) => {
                if (event instanceof NavigationStart) navigations.push(event.url);
              });
            }),
          ],
        },
        context,
      ),
    {
      document: '<!doctype html><html><head></head><body><app-root></app-root></body></html>',
      url: `http://app.example${path}`,
      allowedHosts: ['app.example'],
    },
  );
  return { html, requests, navigations };
}

describe('server-side rendering', () => {
  for (const [path, page] of [
    ['/account', 'account'],
    ['/login', 'login'],
  ] as const) {
    it(`renders ${path} in its pending state: no redirect, no request, no token`, async () => {
      const { html, requests, navigations } = await renderOnServer(path);

      expect(navigations).toEqual([path]); // a redirect would start a second navigation
      expect(html).toContain('id="pending"');
      expect(html).toContain('Checking your session');
      // Neither the guarded page nor the page a redirect would lead to.
      expect(html).not.toContain(`id="${page}"`);
      expect(html).not.toContain('id="account"');
      expect(html).not.toContain('id="login"');
      expect(requests).toEqual([]);
      expect(html).not.toContain(TOKEN);
      expect(html).not.toContain(TOKEN.split('.')[1]);
      expect(html).not.toMatch(/auth_token|alice@example\.com/);
    });
  }
});

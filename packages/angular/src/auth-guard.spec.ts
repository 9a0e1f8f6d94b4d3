import { DOCUMENT } from '@angular/common';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { PLATFORM_ID } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import {
  type ActivatedRouteSnapshot,
  type GuardResult,
  type RouterStateSnapshot,
  Router,
  UrlTree,
  provideRouter,
} from '@angular/router';
import { authGuard, guestGuard, safeReturnUrl } from './auth-guard';
import type { LatchkeyConfig } from './latchkey-config';
import { latchkeyInterceptor } from './latchkey-interceptor';
import { provideLatchkey } from './provide-latchkey';
import { type FakeTab, createFakeBrowser, settle } from './testing/fake-browser';
import { failure, fakeAccessToken, statusReply, tokenReply } from './testing/server-replies';

let http: HttpTestingController;

function setUp(config: LatchkeyConfig = {}, platform = 'browser'): FakeTab {
  const tab = createFakeBrowser().openTab();
  TestBed.configureTestingModule({
    providers: [
      provideRouter([]),
      provideHttpClient(withInterceptors([latchkeyInterceptor])),
      provideHttpClientTesting(),
      provideLatchkey(config),
      { provide: DOCUMENT, useValue: tab.document },
      { provide: PLATFORM_ID, useValue: platform },
    ],
  });
  http = TestBed.inject(HttpTestingController);
  return tab;
}

/** Runs a guard for a navigation to `url`, as the router would. */
function runGuard(guard: typeof authGuard, url: string): Promise<GuardResult> {
  const route = {} as ActivatedRouteSnapshot;
  const state = { url } as RouterStateSnapshot;
  return Promise.resolve(TestBed.runInInjectionContext(() => guard(route, state)) as GuardResult);
}

/** Answers the start-up refresh: a live session (refresh, then the user) or none. */
async function finishStartUp(outcome: 'signed-in' | 'signed-out'): Promise<void> {
  await settle();
  const refresh = http.expectOne({ method: 'POST', url: '/auth/refresh' });
  if (outcome === 'signed-out') {
    refresh.flush(...failure(401, 'invalid_refresh_token'));
    return;
  }
  refresh.flush(tokenReply(fakeAccessToken({ sub: '7', sid: 'session-1' })));
  await settle();
  http.expectOne('/auth/status').flush(statusReply());
}

/** The URL a guard's UrlTree leads to, or the guard's plain answer. */
function destination(result: GuardResult): string | boolean {
  if (result instanceof UrlTree) return TestBed.inject(Router).serializeUrl(result);
  return result as boolean;
}

/** Tracks whether a promise has settled yet. */
function track<T>(promise: Promise<T>): { settled: () => boolean } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled };
}

describe('authGuard', () => {
  afterEach(() => http.verify());

  it('waits for the start-up refresh before deciding', async () => {
    setUp();
    const decision = runGuard(authGuard, '/status');
    const progress = track(decision);

    await settle();
    const refresh = http.expectOne('/auth/refresh');
    await settle();
    expect(progress.settled()).toBe(false);

    refresh.flush(...failure(401, 'invalid_refresh_token'));
    await settle();
    expect(progress.settled()).toBe(true);
  });

  it('sends signed-out users to /login with the attempted URL as returnUrl', async () => {
    setUp();
    const decision = runGuard(authGuard, '/sessions?tab=2');
    await finishStartUp('signed-out');

    const result = await decision;

    expect(result).toBeInstanceOf(UrlTree);
    expect((result as UrlTree).queryParams).toEqual({ returnUrl: '/sessions?tab=2' });
    expect(destination(result)).toBe('/login?returnUrl=%2Fsessions%3Ftab%3D2');
  });

  it('lets a user whose session survives the reload through', async () => {
    setUp();
    const decision = runGuard(authGuard, '/status');
    await finishStartUp('signed-in');

    expect(await decision).toBe(true);
  });

  it('honours a custom loginPath', async () => {
    setUp({ loginPath: '/sign-in' });
    const decision = runGuard(authGuard, '/status');
    await finishStartUp('signed-out');

    expect(destination(await decision)).toBe('/sign-in?returnUrl=%2Fstatus');
  });
});

describe('guestGuard', () => {
  afterEach(() => http.verify());

  it('waits for the start-up refresh before deciding', async () => {
    setUp();
    const decision = runGuard(guestGuard, '/login');
    const progress = track(decision);

    await settle();
    const refresh = http.expectOne('/auth/refresh');
    await settle();
    expect(progress.settled()).toBe(false);

    refresh.flush(tokenReply(fakeAccessToken({ sub: '7', sid: 'session-1' })));
    await settle();
    expect(progress.settled()).toBe(false);
    http.expectOne('/auth/status').flush(statusReply());
    await settle();
    expect(progress.settled()).toBe(true);
  });

  it('lets signed-out users through', async () => {
    setUp();
    const decision = runGuard(guestGuard, '/login');
    await finishStartUp('signed-out');

    expect(await decision).toBe(true);
  });

  it('sends signed-in users to /status', async () => {
    setUp();
    const decision = runGuard(guestGuard, '/login');
    await finishStartUp('signed-in');

    expect(destination(await decision)).toBe('/status');
  });

  it('honours a custom homePath', async () => {
    setUp({ homePath: '/dashboard' });
    const decision = runGuard(guestGuard, '/register');
    await finishStartUp('signed-in');

    expect(destination(await decision)).toBe('/dashboard');
  });
});

describe('safeReturnUrl', () => {
  it('keeps a path of this app', () => {
    expect(safeReturnUrl('/sessions?tab=1', '/status')).toBe('/sessions?tab=1');
  });
  it('refuses absolute and protocol-relative URLs', () => {
    expect(safeReturnUrl('https://evil.example/', '/status')).toBe('/status');
    expect(safeReturnUrl('//evil.example/', '/status')).toBe('/status');
    expect(safeReturnUrl('/\\evil.example', '/status')).toBe('/status');
    expect(safeReturnUrl(null, '/status')).toBe('/status');
  });
});

describe('guards while the server is unavailable', () => {
  afterEach(() => http.verify());

  it('authGuard waits through the outage and lets the kept session through', async () => {
    const tab = setUp();
    const decision = runGuard(authGuard, '/status');
    const progress = track(decision);
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(503, 'service_unavailable'));
    await settle();

    expect(progress.settled()).toBe(false);
    tab.clock.advance(1_000);
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(fakeAccessToken({ sub: '7' })));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());

    expect(destination(await decision)).toBe(true);
  });

  it('guestGuard waits through the outage too', async () => {
    setUp();
    const decision = runGuard(guestGuard, '/login');
    const progress = track(decision);
    await settle();
    http.expectOne('/auth/refresh').error(new ProgressEvent('error'), { status: 0 });
    await settle();

    expect(progress.settled()).toBe(false);
  });
});

describe('guards under server-side rendering', () => {
  afterEach(() => http.verify());

  for (const [name, guard, url] of [
    ['authGuard', authGuard, '/status'],
    ['guestGuard', guestGuard, '/login'],
  ] as const) {
    it(`${name} neither lets through nor redirects, and makes no request`, async () => {
      setUp({}, 'server');

      expect(destination(await runGuard(guard, url))).toBe(false);
      http.expectNone('/auth/refresh');
    });
  }
});

import { DOCUMENT } from '@angular/common';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import {
  HttpTestingController,
  type TestRequest,
  provideHttpClientTesting,
} from '@angular/common/http/testing';
import { PLATFORM_ID } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { MESSAGES } from '@latchkey/contract';
import { type CrossTabMessage, createCrossTab } from './cross-tab';
import { LatchkeyAuth } from './latchkey-auth';
import { latchkeyInterceptor } from './latchkey-interceptor';
import { provideLatchkey } from './provide-latchkey';
import { type FakeTab, createFakeBrowser, settle } from './testing/fake-browser';
import { ALICE, failure, fakeAccessToken, statusReply, tokenReply } from './testing/server-replies';

const TOKEN = fakeAccessToken({ sub: '7', sid: 'session-1', jti: 'a' });
const NEW_TOKEN = fakeAccessToken({ sub: '7', sid: 'session-1', jti: 'b' });

let http: HttpTestingController;

/** A fresh app in one tab of a fake browser; `otherTab` is a second tab of the same browser. */
function setUp({ platform = 'browser' }: { platform?: string } = {}) {
  const browser = createFakeBrowser();
  const tab = browser.openTab();
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([latchkeyInterceptor])),
      provideHttpClientTesting(),
      provideLatchkey(),
      { provide: DOCUMENT, useValue: tab.document },
      { provide: PLATFORM_ID, useValue: platform },
    ],
  });
  http = TestBed.inject(HttpTestingController);
  return { auth: TestBed.inject(LatchkeyAuth), tab, otherTab: browser.openTab() };
}

/** Answers the start-up refresh: a live session (refresh, then the user) or none. */
async function finishStartUp(outcome: 'signed-in' | 'signed-out', token = TOKEN): Promise<void> {
  await settle();
  const refresh = http.expectOne({ method: 'POST', url: '/auth/refresh' });
  if (outcome === 'signed-out') {
    refresh.flush(...failure(401, 'invalid_refresh_token'));
    await settle();
    return;
  }
  refresh.flush(tokenReply(token));
  await settle();
  http.expectOne({ method: 'GET', url: '/auth/status' }).flush(statusReply());
  await settle();
}

/** Everything a page script could read back: both storages and both cookie jars. */
function scriptReadableState(tab: FakeTab): string {
  const dump = (storage: Storage) =>
    Array.from({ length: storage.length }, (_, i) => {
      const key = storage.key(i) ?? '';
      return `${key}=${storage.getItem(key) ?? ''}`;
    }).join(';');
  return [dump(localStorage), dump(sessionStorage), document.cookie, tab.document.cookie].join('|');
}

afterEach(() => http.verify());

describe('LatchkeyAuth start-up', () => {
  it('reports unknown until the start-up refresh and user lookup settle', async () => {
    const { auth } = setUp();
    expect(auth.status()).toBe('unknown');
    expect(auth.isReady()).toBe(false);

    await settle();
    const refresh = http.expectOne({ method: 'POST', url: '/auth/refresh' });
    expect(auth.status()).toBe('unknown');
    refresh.flush(tokenReply(TOKEN));
    await settle();
    expect(auth.status()).toBe('unknown');
    http.expectOne('/auth/status').flush(statusReply());
    await auth.whenReady();

    expect(auth.status()).toBe('signed-in');
    expect(auth.isReady()).toBe(true);
  });

  it('signs in with the server user when the refresh cookie is live', async () => {
    const { auth } = setUp();
    await settle();

    const refresh = http.expectOne({ method: 'POST', url: '/auth/refresh' });
    expect(refresh.request.withCredentials).toBe(true);
    refresh.flush(tokenReply(TOKEN));
    await settle();
    const status = http.expectOne({ method: 'GET', url: '/auth/status' });
    expect(status.request.headers.get('Authorization')).toBe(`Bearer ${TOKEN}`);
    status.flush(statusReply());
    await auth.whenReady();

    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()).toEqual(ALICE);
  });

  it('signs out when the server refuses the refresh cookie', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
    expect(auth.isSignedIn()).toBe(false);
    expect(auth.user()).toBeNull();
  });

  it('signs out when the user lookup after the refresh is refused', async () => {
    const { auth } = setUp();
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(TOKEN));
    await settle();

    http.expectOne('/auth/status').flush(...failure(401, 'token_revoked', MESSAGES.tokenRevoked));
    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('signs out when the refresh is refused for its origin (a 4xx is a verdict)', async () => {
    const { auth } = setUp();
    await settle();

    http.expectOne('/auth/refresh').flush(...failure(403, 'origin_rejected'));
    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
  });

  it('makes no request and stays unknown on a server, ready at once', async () => {
    const { auth } = setUp({ platform: 'server' });

    expect(auth.status()).toBe('unknown');
    await auth.whenReady();
    await settle();

    http.expectNone('/auth/refresh');
    expect(auth.status()).toBe('unknown');
    expect(auth.isReady()).toBe(false);
    expect(auth.user()).toBeNull();
  });
});

describe('LatchkeyAuth unavailable', () => {
  /** Resolves true once `promise` has settled, false while it is still pending. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await settle();
    return done;
  }

  const outages: [string, (request: TestRequest) => void][] = [
    ['cannot be reached', (r) => r.error(new ProgressEvent('error'), { status: 0 })],
    ['answers 503', (r) => r.flush(...failure(503, 'service_unavailable'))],
    [
      'answers 502 without a Latchkey body',
      (r) => r.flush('Bad gateway', { status: 502, statusText: 'Bad Gateway' }),
    ],
    ['answers 429', (r) => r.flush(...failure(429, 'rate_limited'))],
  ];

  for (const [what, answer] of outages) {
    it(`keeps the session and waits when the server ${what} at start-up`, async () => {
      const { auth, tab } = setUp();
      await settle();

      answer(http.expectOne('/auth/refresh'));
      await settle();

      expect(auth.status()).toBe('unavailable');
      expect(auth.isReady()).toBe(false);
      expect(auth.user()).toBeNull();
      expect(await settled(auth.whenReady())).toBe(false);
      expect(tab.clock.pending()).toEqual([1_000]);
    });
  }

  it('retries with doubling delays, capped at 30 s, then settles signed in', async () => {
    const { auth, tab } = setUp();
    await settle();
    const delays: number[] = [];
    http.expectOne('/auth/refresh').flush(...failure(503, 'service_unavailable'));
    await settle();
    for (let i = 0; i < 6; i++) {
      const [delay = -1] = tab.clock.pending();
      delays.push(delay);
      tab.clock.advance(delay - 1);
      http.expectNone('/auth/refresh');
      tab.clock.advance(1);
      await settle();
      http.expectOne('/auth/refresh').error(new ProgressEvent('error'), { status: 0 });
      await settle();
      expect(auth.status()).toBe('unavailable');
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(tab.clock.pending()).toEqual([30_000]);

    tab.clock.advance(30_000);
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await auth.whenReady();

    expect(auth.status()).toBe('signed-in');
    expect(auth.user()).toEqual(ALICE);
    expect(tab.clock.pending()).toEqual([]);
  });

  it('waits at least as long as Retry-After asks', async () => {
    const { tab } = setUp();
    await settle();

    http.expectOne('/auth/refresh').flush(failure(429, 'rate_limited')[0], {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'Retry-After': '7' },
    });
    await settle();

    expect(tab.clock.pending()).toEqual([7_000]);
  });

  it('keeps the session when the user lookup after the refresh fails, and holds no token', async () => {
    const { auth, tab } = setUp();
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(TOKEN));
    await settle();

    http.expectOne('/auth/status').flush(...failure(503, 'service_unavailable'));
    await settle();

    expect(auth.status()).toBe('unavailable');
    void auth.sessions();
    expect(http.expectOne('/auth/sessions').request.headers.has('Authorization')).toBe(false);
    expect(tab.clock.pending()).toEqual([1_000]);
  });

  it('settles signed out when a retry finds the session ended', async () => {
    const { auth, tab } = setUp();
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(503, 'service_unavailable'));
    await settle();

    tab.clock.advance(1_000);
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(401, 'invalid_refresh_token'));
    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
    expect(tab.clock.pending()).toEqual([]);
  });

  it('a login while unavailable settles the state and stops the retries', async () => {
    const { auth, tab } = setUp();
    await settle();
    http.expectOne('/auth/refresh').error(new ProgressEvent('error'), { status: 0 });
    await settle();

    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(tokenReply(TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());

    expect(await login).toEqual({ ok: true, value: 'signed-in' });
    await auth.whenReady();
    expect(auth.status()).toBe('signed-in');
    expect(tab.clock.pending()).toEqual([]);
  });
});

describe('LatchkeyAuth login and register', () => {
  it('login loads the user and returns ok', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.login('alice@example.com', 'correct horse battery');
    const login = http.expectOne({ method: 'POST', url: '/auth/login' });
    expect(login.request.body).toEqual({
      email: 'alice@example.com',
      password: 'correct horse battery',
    });
    login.flush({ ...tokenReply(TOKEN), message: MESSAGES.loggedIn });
    await settle();
    const status = http.expectOne({ method: 'GET', url: '/auth/status' });
    expect(status.request.headers.get('Authorization')).toBe(`Bearer ${TOKEN}`);
    status.flush(statusReply());

    expect(await result).toEqual({ ok: true, value: 'signed-in' });
    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()).toEqual(ALICE);
  });

  it('register creates the account and loads the user', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.register('alice@example.com', 'correct horse battery');
    http
      .expectOne({ method: 'POST', url: '/auth/register' })
      .flush(
        { ...tokenReply(TOKEN), message: MESSAGES.registered },
        { status: 201, statusText: 'Created' },
      );
    await settle();
    http.expectOne('/auth/status').flush(statusReply());

    expect(await result).toEqual({ ok: true, value: 'signed-in' });
    expect(auth.user()).toEqual(ALICE);
  });

  it('register under REQUIRE_EMAIL_VERIFICATION says verify-email and signs nobody in', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-out');
    const told: CrossTabMessage[] = [];
    createCrossTab(otherTab.window).listen((message) => told.push(message));

    const result = auth.register('alice@example.com', 'correct horse battery');
    http
      .expectOne({ method: 'POST', url: '/auth/register' })
      .flush(
        { status: 'success', message: MESSAGES.registeredVerifyEmail },
        { status: 201, statusText: 'Created' },
      );
    expect(await result).toEqual({ ok: true, value: 'verify-email' });
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
    await settle();
    expect(told).toEqual([]);
  });

  it('login failure carries the server code and message exactly', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.login('alice@example.com', 'wrong password');
    http
      .expectOne('/auth/login')
      .flush(...failure(401, 'invalid_credentials', MESSAGES.invalidCredentials));

    expect(await result).toEqual({
      ok: false,
      code: 'invalid_credentials',
      message: 'Invalid email or password.',
      fields: {},
    });
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('register failure carries the field errors', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.register('alice@example', 'short');
    const fields = {
      email: 'Enter a valid email address.',
      password: 'Use at least 8 characters.',
    };
    http
      .expectOne('/auth/register')
      .flush(...failure(400, 'validation_failed', 'Check the highlighted fields.', fields));

    expect(await result).toEqual({
      ok: false,
      code: 'validation_failed',
      message: 'Check the highlighted fields.',
      fields,
    });
  });

  it('register of a taken email carries the conflict message', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.register('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/register').flush(...failure(409, 'email_taken', MESSAGES.emailTaken));

    expect(await result).toMatchObject({
      ok: false,
      code: 'email_taken',
      message: 'User already exists. Please log in.',
    });
  });

  it('login reports network_error when the server cannot be reached', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const result = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').error(new ProgressEvent('error'), { status: 0 });

    const outcome = await result;
    expect(outcome).toMatchObject({ ok: false, code: 'network_error', fields: {} });
    expect(outcome.ok === false && outcome.message.length > 0).toBe(true);
    expect(auth.status()).toBe('signed-out');
  });
});

describe('LatchkeyAuth half a sign-in', () => {
  for (const [what, status, code] of [
    ['fails', 503, 'service_unavailable'],
    ['is refused', 401, 'token_revoked'],
  ] as const) {
    it(`a login whose user lookup ${what} leaves no token in memory`, async () => {
      const { auth } = setUp();
      await finishStartUp('signed-out');

      const login = auth.login('alice@example.com', 'correct horse battery');
      http.expectOne('/auth/login').flush(tokenReply(TOKEN));
      await settle();
      http.expectOne('/auth/status').flush(...failure(status, code));

      expect(await login).toMatchObject({ ok: false, code });
      expect(auth.status()).toBe('signed-out');
      expect(auth.user()).toBeNull();
      void auth.sessions();
      expect(http.expectOne('/auth/sessions').request.headers.has('Authorization')).toBe(false);
    });
  }

  it('reports a 5xx without a Latchkey body as server_error, not network_error', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const login = auth.login('alice@example.com', 'correct horse battery');
    http
      .expectOne('/auth/login')
      .flush('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' });

    expect(await login).toMatchObject({ ok: false, code: 'server_error' });
  });

  it('carries Retry-After of a throttled login', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');

    const login = auth.login('alice@example.com', 'wrong password');
    http.expectOne('/auth/login').flush(failure(429, 'rate_limited', 'Too many attempts.')[0], {
      status: 429,
      statusText: 'Too Many Requests',
      headers: { 'Retry-After': '120' },
    });

    expect(await login).toMatchObject({ ok: false, code: 'rate_limited', retryAfterSeconds: 120 });
  });
});

describe('LatchkeyAuth logout', () => {
  it('posts to /auth/logout with the bearer token and signs out', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const done = auth.logout();
    const logout = http.expectOne({ method: 'POST', url: '/auth/logout' });
    expect(logout.request.headers.get('Authorization')).toBe(`Bearer ${TOKEN}`);
    expect(logout.request.withCredentials).toBe(true);
    logout.flush({ status: 'success', message: MESSAGES.loggedOut });
    await done;

    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('says so and stays signed in when the server fails', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const done = auth.logout();
    http.expectOne('/auth/logout').flush(...failure(500, 'internal_error'));

    expect(await done).toMatchObject({ ok: false, code: 'internal_error' });
    expect(auth.status()).toBe('signed-in');
    expect(auth.user()).toEqual(ALICE);
  });

  it('says so and stays signed in when the server cannot be reached', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-in');
    const heard: CrossTabMessage[] = [];
    createCrossTab(otherTab.window).listen((message) => heard.push(message));

    const done = auth.logout();
    http.expectOne('/auth/logout').error(new ProgressEvent('error'), { status: 0 });
    const result = await done;
    await settle();

    expect(result).toMatchObject({ ok: false, code: 'network_error' });
    expect(result.ok === false && result.message).toMatch(/still signed in/);
    expect(auth.user()).toEqual(ALICE);
    expect(heard).toEqual([]);
    void auth.sessions();
    expect(http.expectOne('/auth/sessions').request.headers.get('Authorization')).toBe(
      `Bearer ${TOKEN}`,
    );
  });

  it('signs out when the server says the session is already gone (401)', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const done = auth.logout();
    http.expectOne('/auth/logout').flush(...failure(401, 'token_revoked', MESSAGES.tokenRevoked));

    expect(await done).toEqual({ ok: true, value: undefined });
    expect(auth.status()).toBe('signed-out');
  });

  it('stops sending the old token afterwards', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');
    const done = auth.logout();
    http.expectOne('/auth/logout').flush({ status: 'success', message: MESSAGES.loggedOut });
    await done;

    void auth.sessions();

    expect(http.expectOne('/auth/sessions').request.headers.has('Authorization')).toBe(false);
  });
});

describe('LatchkeyAuth refresh', () => {
  it('makes one request for three calls at once', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const results = Promise.all([auth.refresh(), auth.refresh(), auth.refresh()]);
    await settle();
    const requests = http.match({ method: 'POST', url: '/auth/refresh' });
    expect(requests).toHaveLength(1);
    requests[0]?.flush(tokenReply(NEW_TOKEN));

    expect(await results).toEqual([true, true, true]);
    void auth.sessions();
    const sessions = http.expectOne('/auth/sessions');
    expect(sessions.request.headers.get('Authorization')).toBe(`Bearer ${NEW_TOKEN}`);
    sessions.flush({ status: 'success', data: [] });
  });

  it('makes a new request once the previous refresh has finished', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const first = auth.refresh();
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(NEW_TOKEN));
    expect(await first).toBe(true);

    const second = auth.refresh();
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(401, 'invalid_refresh_token'));

    expect(await second).toBe(false);
    expect(auth.status()).toBe('signed-out');
  });
});

describe('LatchkeyAuth token storage', () => {
  it('never writes the access token to storage or cookies', async () => {
    localStorage.clear();
    sessionStorage.clear();
    const { auth, tab } = setUp();
    await finishStartUp('signed-out');

    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(tokenReply(TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await login;
    expect(auth.isSignedIn()).toBe(true);
    expect(scriptReadableState(tab)).not.toContain(TOKEN.split('.')[1]);

    const refreshed = auth.refresh();
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(NEW_TOKEN));
    expect(await refreshed).toBe(true);
    expect(scriptReadableState(tab)).not.toContain(NEW_TOKEN.split('.')[1]);
    expect(scriptReadableState(tab)).toBe('|||');
  });
});

describe('LatchkeyAuth endSession', () => {
  const SESSIONS = (current: string) => ({
    status: 'success',
    data: ['session-1', 'session-2'].map((id) => ({
      id,
      created_at: '2026-01-02T03:04:05.000Z',
      last_used_at: '2026-01-02T03:04:05.000Z',
      expires_at: '2026-01-16T03:04:05.000Z',
      user_agent: null,
      ip: null,
      current: id === current,
    })),
  });

  /** Signed in, with the session list seen (the server marks which one is current). */
  async function signedInWithList(current: string) {
    const setup = setUp();
    await finishStartUp('signed-in');
    const list = setup.auth.sessions();
    http.expectOne('/auth/sessions').flush(SESSIONS(current));
    await list;
    return setup;
  }

  it('ending the session the server marked current signs out', async () => {
    // The token's own claims say session-1; the server's word (session-2) is what counts.
    const { auth } = await signedInWithList('session-2');

    const result = auth.endSession('session-2');
    http
      .expectOne({ method: 'DELETE', url: '/auth/sessions/session-2' })
      .flush({ status: 'success', message: MESSAGES.sessionEnded });

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('ending another session keeps this tab signed in', async () => {
    const { auth } = await signedInWithList('session-1');

    const result = auth.endSession('session-2');
    http.expectOne('/auth/sessions/session-2').flush({ status: 'success' });

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()).toEqual(ALICE);
  });

  it('without a list seen, asks the server whether this session survived', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const result = auth.endSession('session-1');
    http.expectOne('/auth/sessions/session-1').flush({ status: 'success' });
    await settle();
    http.expectOne('/auth/status').flush(...failure(401, 'token_revoked', MESSAGES.tokenRevoked));

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.status()).toBe('signed-out');
  });

  it('ending an unknown session reports not_found and keeps this tab signed in', async () => {
    const { auth } = await signedInWithList('session-1');

    const result = auth.endSession('session-1x');
    http.expectOne('/auth/sessions/session-1x').flush(...failure(404, 'not_found', 'Not found.'));

    expect(await result).toMatchObject({ ok: false, code: 'not_found' });
    expect(auth.isSignedIn()).toBe(true);
  });
});

describe('LatchkeyAuth endedElsewhere', () => {
  it('is set when the server revokes the session in use, and cleared by the next login', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');
    expect(auth.endedElsewhere()).toBe(false);

    void auth.sessions();
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_revoked', MESSAGES.tokenRevoked));
    await settle();

    expect(auth.status()).toBe('signed-out');
    expect(auth.endedElsewhere()).toBe(true);
    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(tokenReply(NEW_TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await login;
    expect(auth.endedElsewhere()).toBe(false);
  });

  it('is set when a signed-in tab finds its refresh cookie refused', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const refreshed = auth.refresh();
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(401, 'invalid_refresh_token'));
    await refreshed;

    expect(auth.endedElsewhere()).toBe(true);
  });

  it('stays false for a logout, and for a start-up without a session', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');
    expect(auth.endedElsewhere()).toBe(false);

    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(tokenReply(TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await login;
    const logout = auth.logout();
    http.expectOne('/auth/logout').flush({ status: 'success', message: MESSAGES.loggedOut });
    await logout;

    expect(auth.endedElsewhere()).toBe(false);
  });
});

describe('LatchkeyAuth across tabs', () => {
  it('a signed-out message from another tab clears the user', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-in');

    createCrossTab(otherTab.window).post({ type: 'signed-out' });
    await settle();

    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('a signed-in message makes a signed-out tab refresh and load the user', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-out');

    createCrossTab(otherTab.window).post({ type: 'signed-in' });
    await settle();
    http.expectOne({ method: 'POST', url: '/auth/refresh' }).flush(tokenReply(NEW_TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await settle();

    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()).toEqual(ALICE);
  });

  it('a signed-in message leaves a signed-in tab alone', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-in');

    createCrossTab(otherTab.window).post({ type: 'signed-in' });
    await settle();

    http.expectNone('/auth/refresh');
    expect(auth.isSignedIn()).toBe(true);
  });

  it('login and logout tell the other tabs', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-out');
    const heard: CrossTabMessage[] = [];
    createCrossTab(otherTab.window).listen((message) => heard.push(message));

    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(tokenReply(TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await login;
    const logout = auth.logout();
    http.expectOne('/auth/logout').flush({ status: 'success', message: MESSAGES.loggedOut });
    await logout;
    await settle();

    expect(heard).toEqual([{ type: 'signed-in' }, { type: 'signed-out' }]);
  });

  it('a failed login tells the other tabs nothing', async () => {
    const { auth, otherTab } = setUp();
    await finishStartUp('signed-out');
    const heard: CrossTabMessage[] = [];
    createCrossTab(otherTab.window).listen((message) => heard.push(message));

    const login = auth.login('alice@example.com', 'wrong password');
    http.expectOne('/auth/login').flush(...failure(401, 'invalid_credentials'));
    await login;
    await settle();

    expect(heard).toEqual([]);
  });
});

describe('LatchkeyAuth second factor', () => {
  it('a login that needs a second factor signs nobody in until completeLogin with a code', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');
    const login = auth.login('alice@example.com', 'correct horse battery');
    http.expectOne('/auth/login').flush(
      {
        status: 'success',
        message: MESSAGES.mfaRequired,
        mfa_token: 'pending-1',
        mfa_methods: ['totp', 'recovery_code'],
      },
      { status: 202, statusText: 'Accepted' },
    );
    expect(await login).toEqual({ ok: true, value: 'second-factor' });
    expect(auth.status()).toBe('signed-out');

    const done = auth.completeLogin({ code: '123456' });
    const request = http.expectOne({ method: 'POST', url: '/auth/login/mfa' });
    expect(request.request.body).toEqual({ mfa_token: 'pending-1', code: '123456' });
    expect(request.request.headers.has('Authorization')).toBe(false);
    request.flush({ ...tokenReply(TOKEN), message: MESSAGES.loggedIn });
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    expect(await done).toEqual({ ok: true, value: undefined });
    expect(auth.status()).toBe('signed-in');
  });

  it('a wrong code keeps the pending sign-in for another try', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');
    const login = auth.login('alice@example.com', 'correct horse battery');
    http
      .expectOne('/auth/login')
      .flush(
        { status: 'success', message: 'm', mfa_token: 'pending-2', mfa_methods: ['totp'] },
        { status: 202, statusText: 'Accepted' },
      );
    await login;
    const wrong = auth.completeLogin({ code: '000000' });
    http.expectOne('/auth/login/mfa').flush(...failure(401, 'invalid_mfa_code'));
    const outcome = await wrong;
    expect(outcome.ok).toBe(false);
    const again = auth.completeLogin({ recoveryCode: 'ABCDE-FGHIJ' });
    const retry = http.expectOne('/auth/login/mfa');
    expect(retry.request.body).toEqual({ mfa_token: 'pending-2', recovery_code: 'ABCDE-FGHIJ' });
    retry.flush(...failure(401, 'invalid_mfa_token'));
    expect((await again).ok).toBe(false);
    expect(auth.status()).toBe('signed-out');
  });
});

describe('LatchkeyAuth email flows', () => {
  it('verifyEmail posts the token and reloads a signed-in user', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');
    const result = auth.verifyEmail('the-token');
    const request = http.expectOne({ method: 'POST', url: '/auth/email/verify' });
    expect(request.request.body).toEqual({ token: 'the-token' });
    request.flush({ status: 'success', message: MESSAGES.emailVerified });
    await settle();
    http.expectOne('/auth/status').flush(statusReply({ ...ALICE, email_verified: true }));
    expect(await result).toEqual({ ok: true, value: MESSAGES.emailVerified });
    expect(auth.user()?.email_verified).toBe(true);
  });

  it('a failed verification carries the server code and reloads nothing', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-out');
    const result = auth.verifyEmail('used');
    http.expectOne('/auth/email/verify').flush(...failure(400, 'invalid_email_token'));
    const outcome = await result;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.code).toBe('invalid_email_token');
  });

  it('resetPassword while signed in signs every tab out (the server ended every session)', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');
    const result = auth.resetPassword('t', 'a brand new password');
    const request = http.expectOne({ method: 'POST', url: '/auth/password/reset' });
    expect(request.request.body).toEqual({ token: 't', new_password: 'a brand new password' });
    request.flush({ status: 'success', message: MESSAGES.passwordReset });
    expect(await result).toEqual({ ok: true, value: MESSAGES.passwordReset });
    expect(auth.status()).toBe('signed-out');
    expect(auth.endedElsewhere()).toBe(false);
  });

  it('forgotPassword, changeEmail and requestVerificationEmail answer the server message', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');
    const forgot = auth.forgotPassword('alice@example.com');
    http
      .expectOne({ method: 'POST', url: '/auth/password/forgot' })
      .flush({ status: 'success', message: MESSAGES.resetRequested });
    expect(await forgot).toEqual({ ok: true, value: MESSAGES.resetRequested });

    const change = auth.changeEmail('new@example.com', 'my password');
    const request = http.expectOne({ method: 'POST', url: '/auth/email/change' });
    expect(request.request.body).toEqual({
      new_email: 'new@example.com',
      current_password: 'my password',
    });
    expect(request.request.headers.get('Authorization')).toBe(`Bearer ${TOKEN}`);
    request.flush({ status: 'success', message: MESSAGES.emailChangeRequested });
    expect(await change).toEqual({ ok: true, value: MESSAGES.emailChangeRequested });

    const resend = auth.requestVerificationEmail();
    http.expectOne('/auth/email/verify/request').flush(...failure(429, 'rate_limited'));
    const outcome = await resend;
    expect(outcome.ok).toBe(false);
  });
});

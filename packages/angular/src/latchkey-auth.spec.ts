import { DOCUMENT } from '@angular/common';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
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

  it('signs out when the user lookup after the refresh fails', async () => {
    const { auth } = setUp();
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(TOKEN));
    await settle();

    http.expectOne('/auth/status').flush(...failure(503, 'service_unavailable'));
    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('signs out when the server cannot be reached', async () => {
    const { auth } = setUp();
    await settle();

    http.expectOne('/auth/refresh').error(new ProgressEvent('error'));
    await auth.whenReady();

    expect(auth.status()).toBe('signed-out');
  });

  it('makes no request and starts signed out on a server', async () => {
    const { auth } = setUp({ platform: 'server' });

    expect(auth.status()).toBe('signed-out');
    await auth.whenReady();
    await settle();

    http.expectNone('/auth/refresh');
    expect(auth.user()).toBeNull();
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

    expect(await result).toEqual({ ok: true, value: undefined });
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

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.user()).toEqual(ALICE);
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

  it('clears the user even when the server fails', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const done = auth.logout();
    http.expectOne('/auth/logout').flush(...failure(500, 'internal_error'));
    await done;

    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('clears the user even when the server cannot be reached', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const done = auth.logout();
    http.expectOne('/auth/logout').error(new ProgressEvent('error'));
    await done;

    expect(auth.user()).toBeNull();
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
  it('ending the current session signs out', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const result = auth.endSession('session-1');
    http
      .expectOne({ method: 'DELETE', url: '/auth/sessions/session-1' })
      .flush({ status: 'success' });

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('ending another session keeps this tab signed in', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const result = auth.endSession('session-2');
    http.expectOne('/auth/sessions/session-2').flush({ status: 'success' });

    expect(await result).toEqual({ ok: true, value: undefined });
    expect(auth.isSignedIn()).toBe(true);
    expect(auth.user()).toEqual(ALICE);
  });

  it('ending an unknown session reports not_found and keeps this tab signed in', async () => {
    const { auth } = setUp();
    await finishStartUp('signed-in');

    const result = auth.endSession('session-1x');
    http.expectOne('/auth/sessions/session-1x').flush(...failure(404, 'not_found', 'Not found.'));

    expect(await result).toMatchObject({ ok: false, code: 'not_found' });
    expect(auth.isSignedIn()).toBe(true);
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

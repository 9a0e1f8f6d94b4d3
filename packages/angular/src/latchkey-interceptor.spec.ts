import { DOCUMENT } from '@angular/common';
import {
  HttpClient,
  HttpErrorResponse,
  provideHttpClient,
  withInterceptors,
} from '@angular/common/http';
import {
  HttpTestingController,
  type TestRequest,
  provideHttpClientTesting,
} from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { LatchkeyAuth } from './latchkey-auth';
import { latchkeyInterceptor } from './latchkey-interceptor';
import { provideLatchkey } from './provide-latchkey';
import { createFakeBrowser, settle } from './testing/fake-browser';
import { failure, fakeAccessToken, statusReply, tokenReply } from './testing/server-replies';

const TOKEN = fakeAccessToken({ sub: '7', sid: 'session-1', jti: 'a' });
const NEW_TOKEN = fakeAccessToken({ sub: '7', sid: 'session-1', jti: 'b' });
const SESSIONS = { status: 'success', data: [] };

let http: HttpTestingController;

/** A signed-in app on https://app.example whose Latchkey server is at `apiUrl`. */
async function signedIn(apiUrl = ''): Promise<LatchkeyAuth> {
  const tab = createFakeBrowser().openTab({ origin: 'https://app.example' });
  TestBed.configureTestingModule({
    providers: [
      provideHttpClient(withInterceptors([latchkeyInterceptor])),
      provideHttpClientTesting(),
      provideLatchkey({ apiUrl }),
      { provide: DOCUMENT, useValue: tab.document },
    ],
  });
  http = TestBed.inject(HttpTestingController);
  const auth = TestBed.inject(LatchkeyAuth);
  const api = apiUrl.replace(/\/$/, '');
  await settle();
  http.expectOne({ method: 'POST', url: `${api}/auth/refresh` }).flush(tokenReply(TOKEN));
  await settle();
  http.expectOne({ method: 'GET', url: `${api}/auth/status` }).flush(statusReply());
  await auth.whenReady();
  expect(auth.isSignedIn()).toBe(true);
  return auth;
}

/** Sends a GET through HttpClient (and so the interceptor); settles to what the caller sees. */
function get(url: string): Promise<{ body: unknown } | { error: unknown }> {
  return firstValueFrom(TestBed.inject(HttpClient).get(url)).then(
    (body) => ({ body }),
    (error: unknown) => ({ error }),
  );
}

function bearerOf(request: TestRequest): string | null {
  return request.request.headers.get('Authorization');
}

/** The status and error code the caller of a failed request sees. */
function failureSeen(outcome: { body: unknown } | { error: unknown }) {
  if (!('error' in outcome) || !(outcome.error instanceof HttpErrorResponse)) return outcome;
  return { status: outcome.error.status, code: (outcome.error.error as { code?: string }).code };
}

afterEach(() => http.verify());

describe('latchkeyInterceptor with the API on the app origin', () => {
  it('sends the bearer token and cookies to API URLs, relative or absolute', async () => {
    await signedIn();

    void get('/auth/sessions');
    void get('https://app.example/auth/status');

    for (const url of ['/auth/sessions', 'https://app.example/auth/status']) {
      const request = http.expectOne(url);
      expect(bearerOf(request)).toBe(`Bearer ${TOKEN}`);
      expect(request.request.withCredentials).toBe(true);
      request.flush(SESSIONS);
    }
  });

  it('sends neither token nor cookies to another origin', async () => {
    await signedIn();
    const elsewhere = [
      'https://other.example/auth/status',
      'https://app.example.evil.example/auth/status',
      'http://app.example/auth/status',
      '//other.example/auth/status',
    ];

    elsewhere.forEach((url) => void get(url));

    for (const url of elsewhere) {
      const request = http.expectOne(url);
      expect(bearerOf(request)).toBeNull();
      expect(request.request.withCredentials).toBe(false);
      request.flush({});
    }
  });

  it('sends no token to paths of the app origin outside /auth', async () => {
    await signedIn();

    void get('/api/orders');

    const request = http.expectOne('/api/orders');
    expect(bearerOf(request)).toBeNull();
    request.flush([]);
  });

  it('sends cookies but no token before anyone signs in', async () => {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([latchkeyInterceptor])),
        provideHttpClientTesting(),
        provideLatchkey(),
        { provide: DOCUMENT, useValue: createFakeBrowser().openTab().document },
      ],
    });
    http = TestBed.inject(HttpTestingController);
    TestBed.inject(LatchkeyAuth);
    await settle();

    const refresh = http.expectOne('/auth/refresh');

    expect(bearerOf(refresh)).toBeNull();
    expect(refresh.request.withCredentials).toBe(true);
    refresh.flush(...failure(401, 'invalid_refresh_token'));
  });
});

describe('latchkeyInterceptor with an explicit apiUrl', () => {
  const API = 'https://auth.example.com';

  it('sends the bearer token and cookies to the API origin', async () => {
    await signedIn(API);

    void get(`${API}/auth/sessions`);

    const request = http.expectOne(`${API}/auth/sessions`);
    expect(bearerOf(request)).toBe(`Bearer ${TOKEN}`);
    expect(request.request.withCredentials).toBe(true);
    request.flush(SESSIONS);
  });

  it('sends neither token nor cookies to look-alike hosts or the app origin', async () => {
    await signedIn(API);
    const elsewhere = [
      'https://auth.example.com.evil.example/auth/status',
      'https://auth.example.com@evil.example/auth/status',
      'https://evil.example/auth/status?next=https://auth.example.com/auth/',
      'http://auth.example.com/auth/status',
      '/auth/status',
    ];

    elsewhere.forEach((url) => void get(url));

    for (const url of elsewhere) {
      const request = http.expectOne(url);
      expect(bearerOf(request)).toBeNull();
      expect(request.request.withCredentials).toBe(false);
      request.flush({});
    }
  });

  it('accepts an apiUrl with a trailing slash', async () => {
    await signedIn(`${API}/`);

    void get(`${API}/auth/sessions`);

    expect(bearerOf(http.expectOne(`${API}/auth/sessions`))).toBe(`Bearer ${TOKEN}`);
  });
});

describe('latchkeyInterceptor on an expired token', () => {
  it('refreshes once and retries with the new token', async () => {
    const auth = await signedIn();

    const outcome = get('/auth/sessions');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    await settle();
    http.expectOne({ method: 'POST', url: '/auth/refresh' }).flush(tokenReply(NEW_TOKEN));
    await settle();
    const retry = http.expectOne('/auth/sessions');
    expect(bearerOf(retry)).toBe(`Bearer ${NEW_TOKEN}`);
    retry.flush(SESSIONS);

    expect(await outcome).toEqual({ body: SESSIONS });
    expect(auth.isSignedIn()).toBe(true);
  });

  it('shares one refresh between parallel requests and retries both', async () => {
    await signedIn();

    const sessions = get('/auth/sessions');
    const status = get('/auth/status');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    http.expectOne('/auth/status').flush(...failure(401, 'token_expired'));
    await settle();
    const refreshes = http.match({ method: 'POST', url: '/auth/refresh' });
    expect(refreshes).toHaveLength(1);
    refreshes[0]?.flush(tokenReply(NEW_TOKEN));
    await settle();
    const retries = [http.expectOne('/auth/sessions'), http.expectOne('/auth/status')];
    expect(retries.map(bearerOf)).toEqual([`Bearer ${NEW_TOKEN}`, `Bearer ${NEW_TOKEN}`]);
    retries[0]?.flush(SESSIONS);
    retries[1]?.flush(statusReply());

    expect(await sessions).toEqual({ body: SESSIONS });
    expect(await status).toEqual({ body: statusReply() });
  });

  it('retries without another refresh when the token was renewed meanwhile', async () => {
    await signedIn();

    const first = get('/auth/sessions');
    const late = get('/auth/status');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(NEW_TOKEN));
    await settle();
    http.expectOne('/auth/sessions').flush(SESSIONS);
    // The second request was sent with the old token; its 401 comes after the refresh.
    http.expectOne('/auth/status').flush(...failure(401, 'token_expired'));
    await settle();

    http.expectNone('/auth/refresh');
    const retry = http.expectOne('/auth/status');
    expect(bearerOf(retry)).toBe(`Bearer ${NEW_TOKEN}`);
    retry.flush(statusReply());
    expect(await first).toEqual({ body: SESSIONS });
    expect(await late).toEqual({ body: statusReply() });
  });

  it('gives up when the retry is refused as expired again', async () => {
    await signedIn();

    const outcome = get('/auth/sessions');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(NEW_TOKEN));
    await settle();
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    await settle();

    http.expectNone('/auth/refresh');
    expect(failureSeen(await outcome)).toEqual({ status: 401, code: 'token_expired' });
  });

  it('hands the error to the caller and signs out when the refresh fails', async () => {
    const auth = await signedIn();

    const outcome = get('/auth/sessions');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_expired'));
    await settle();
    http.expectOne('/auth/refresh').flush(...failure(401, 'invalid_refresh_token'));

    expect(failureSeen(await outcome)).toEqual({ status: 401, code: 'token_expired' });
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
    void get('/auth/status');
    expect(bearerOf(http.expectOne('/auth/status'))).toBeNull();
  });
});

describe('latchkeyInterceptor and the refresh request', () => {
  it('sends the refresh with cookies but no bearer token, even while one is held', async () => {
    const auth = await signedIn();

    const refreshed = auth.refresh();
    await settle();
    const refresh = http.expectOne({ method: 'POST', url: '/auth/refresh' });

    expect(bearerOf(refresh)).toBeNull();
    expect(refresh.request.withCredentials).toBe(true);
    refresh.flush(tokenReply(NEW_TOKEN));
    expect(await refreshed).toBe(true);
  });

  it('never recovers a 401 of the refresh itself', async () => {
    const auth = await signedIn();

    const refreshed = auth.refresh();
    await settle();
    // Whatever the refresh answers, it is final: no second refresh, no retry.
    http.expectOne('/auth/refresh').flush(...failure(401, 'token_expired'));
    await settle();

    expect(await refreshed).toBe(false);
    http.expectNone('/auth/refresh');
    expect(auth.status()).toBe('signed-out');
  });

  it('tags the refresh by context, not URL: the app POST to /auth/refresh is ordinary', async () => {
    await signedIn();

    void TestBed.inject(HttpClient)
      .post('/auth/refresh', {})
      .subscribe({ error: () => undefined });
    const request = http.expectOne('/auth/refresh');

    // Sent by the app, not by the library: it is an ordinary API request with the token.
    expect(bearerOf(request)).toBe(`Bearer ${TOKEN}`);
    request.flush(tokenReply(NEW_TOKEN));
  });
});

describe('latchkeyInterceptor on other failures', () => {
  it('signs out on token_revoked without refreshing', async () => {
    const auth = await signedIn();

    const outcome = get('/auth/sessions');
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_revoked'));

    expect(failureSeen(await outcome)).toEqual({ status: 401, code: 'token_revoked' });
    await settle();
    http.expectNone('/auth/refresh');
    expect(auth.status()).toBe('signed-out');
    expect(auth.user()).toBeNull();
  });

  it('keeps a newer session when a token_revoked answer comes late for a replaced token', async () => {
    const auth = await signedIn();

    const stale = get('/auth/sessions');
    const expired = get('/auth/status');
    http.expectOne('/auth/status').flush(...failure(401, 'token_expired'));
    await settle();
    http.expectOne('/auth/refresh').flush(tokenReply(NEW_TOKEN));
    await settle();
    http.expectOne('/auth/status').flush(statusReply());
    await expired;
    // The answer to the request sent with the old token arrives only now.
    http.expectOne('/auth/sessions').flush(...failure(401, 'token_revoked'));

    expect(failureSeen(await stale)).toEqual({ status: 401, code: 'token_revoked' });
    expect(auth.status()).toBe('signed-in');
    void get('/auth/sessions');
    expect(bearerOf(http.expectOne('/auth/sessions'))).toBe(`Bearer ${NEW_TOKEN}`);
  });

  it('passes non-401 errors through untouched', async () => {
    const auth = await signedIn();
    const answers = [
      failure(403, 'origin_rejected', 'Origin not allowed.'),
      failure(404, 'not_found', 'Not found.'),
      failure(429, 'rate_limited', 'Too many requests.'),
      failure(500, 'internal_error', 'Something went wrong.'),
    ];

    for (const [body, options] of answers) {
      const outcome = get('/auth/sessions');
      http.expectOne('/auth/sessions').flush(body, options);
      const seen = await outcome;
      expect('error' in seen && seen.error instanceof HttpErrorResponse).toBe(true);
      const error = (seen as { error: HttpErrorResponse }).error;
      expect(error.status).toBe(options.status);
      expect(error.error).toEqual(body);
    }
    await settle();

    http.expectNone('/auth/refresh');
    expect(auth.isSignedIn()).toBe(true);
  });

  it('leaves a token_expired answer from another origin alone', async () => {
    const auth = await signedIn();

    const outcome = get('https://other.example/auth/status');
    http.expectOne('https://other.example/auth/status').flush(...failure(401, 'token_expired'));

    expect(failureSeen(await outcome)).toEqual({ status: 401, code: 'token_expired' });
    await settle();
    http.expectNone('/auth/refresh');
    expect(auth.isSignedIn()).toBe(true);
  });
});

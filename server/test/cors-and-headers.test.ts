import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import {
  bearer,
  createTestApp,
  GOOD_PASSWORD,
  json,
  registerUser,
  refreshSetCookieHeader,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';

const APP_ORIGIN = 'https://app.example';
const ADMIN_ORIGIN = 'https://admin.example';

async function startApp(ctx: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp({ env });
  ctx.after(() => t.close());
  return t;
}

/** The Vary header as a list of lower-case field names. */
function varyOf(res: LightMyRequestResponse): string[] {
  const raw = res.headers['vary'];
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return joined
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function listOf(value: string | string[] | number | undefined): string[] {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

function preflight(t: TestApp, url: string, origin: string, method: string, headers: string) {
  return t.app.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  });
}

describe('CORS', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: `${APP_ORIGIN}, ${ADMIN_ORIGIN}` } });
  });
  after(() => t.close());

  test('a listed origin gets its own origin echoed with credentials allowed', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: APP_ORIGIN },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.ok(varyOf(res).includes('origin'), `Vary is ${String(res.headers['vary'])}`);
  });

  test('each listed origin is echoed, never a wildcard', async () => {
    for (const origin of [APP_ORIGIN, ADMIN_ORIGIN]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: { origin },
        payload: { email: uniqueEmail('cors'), password: GOOD_PASSWORD },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.equal(res.headers['access-control-allow-credentials'], 'true');
      assert.ok(varyOf(res).includes('origin'));
    }
  });

  test('a listed origin gets CORS headers on a failure answer too', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/auth/status',
      headers: { origin: APP_ORIGIN },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
  });

  test('preflight for POST /auth/refresh with Content-Type succeeds for a listed origin', async () => {
    const res = await preflight(t, '/auth/refresh', APP_ORIGIN, 'POST', 'content-type');
    assert.ok(
      res.statusCode >= 200 && res.statusCode < 300,
      `preflight answered ${res.statusCode}`,
    );
    assert.equal(res.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.ok(listOf(res.headers['access-control-allow-methods']).includes('post'));
    assert.ok(listOf(res.headers['access-control-allow-headers']).includes('content-type'));
    assert.ok(varyOf(res).includes('origin'));
  });

  test('preflight for DELETE /auth/sessions/:id with Authorization succeeds for a listed origin', async () => {
    const res = await preflight(t, '/auth/sessions/abc', ADMIN_ORIGIN, 'DELETE', 'authorization');
    assert.ok(
      res.statusCode >= 200 && res.statusCode < 300,
      `preflight answered ${res.statusCode}`,
    );
    assert.equal(res.headers['access-control-allow-origin'], ADMIN_ORIGIN);
    assert.ok(listOf(res.headers['access-control-allow-methods']).includes('delete'));
    assert.ok(listOf(res.headers['access-control-allow-headers']).includes('authorization'));
  });

  test('an unlisted origin gets no Access-Control-Allow-Origin', async () => {
    const lookalikes = [
      'https://evil.example',
      'http://app.example',
      'https://app.example:8443',
      'https://app.example.evil.example',
      'https://sub.app.example',
      'null',
    ];
    for (const origin of lookalikes) {
      const res = await t.app.inject({ method: 'GET', url: '/health', headers: { origin } });
      assert.equal(res.statusCode, 200, origin);
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(res.headers['access-control-allow-credentials'], undefined, origin);
    }
  });

  test('preflight from an unlisted origin is not allowed', async () => {
    const res = await preflight(t, '/auth/refresh', 'https://evil.example', 'POST', 'content-type');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
  });

  test('a request without an Origin header is served normally', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail('no-origin'), password: GOOD_PASSWORD },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const token = String(json(res).auth_token);
    const status = await t.app.inject({
      method: 'GET',
      url: '/auth/status',
      headers: bearer(token),
    });
    assert.equal(status.statusCode, 200, status.body);
  });

  test('without CORS_ORIGINS no origin is allowed', async (ctx) => {
    const closed = await startApp(ctx);
    const res = await closed.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: APP_ORIGIN },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  });
});

describe('security headers', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp();
    token = (await registerUser(t.app)).token;
  });
  after(() => t.close());

  function assertSecurityHeaders(res: LightMyRequestResponse, label: string): void {
    assert.equal(res.headers['x-content-type-options'], 'nosniff', label);
    const csp = res.headers['content-security-policy'];
    assert.equal(typeof csp, 'string', `${label}: Content-Security-Policy`);
    // Documents load only their own files; JSON answers may load nothing at all.
    assert.ok(
      /default-src 'none'/.test(String(csp)) ||
        (/default-src 'self'/.test(String(csp)) && /object-src 'none'/.test(String(csp))),
      `${label}: ${String(csp)}`,
    );
    assert.match(
      String(res.headers['referrer-policy']),
      /^(no-referrer|same-origin|strict-origin)/,
      label,
    );
    assert.ok(
      res.headers['x-frame-options'] !== undefined || /frame-ancestors/.test(String(csp)),
      label,
    );
  }

  test('API answers carry the short OWASP REST header set, documents the full one', async () => {
    const api = await t.app.inject({ method: 'GET', url: '/auth/status', headers: bearer(token) });
    assert.equal(
      api.headers['content-security-policy'],
      "default-src 'none';frame-ancestors 'none'",
    );
    assert.equal(api.headers['x-frame-options'], 'DENY');
    assert.equal(api.headers['referrer-policy'], 'no-referrer');
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
    assert.equal(api.headers['x-dns-prefetch-control'], undefined);
    assert.equal(api.headers['cross-origin-opener-policy'], undefined);

    const docs = await t.app.inject({ method: 'GET', url: '/docs/static/index.html' });
    const page =
      docs.statusCode === 200 ? docs : await t.app.inject({ method: 'GET', url: '/nope' });
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(page.headers['x-dns-prefetch-control'], 'off');
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
  });

  const cases: { label: string; status: number; request: () => InjectOptions }[] = [
    { label: 'GET /health', status: 200, request: () => ({ method: 'GET', url: '/health' }) },
    {
      label: 'JWKS',
      status: 200,
      request: () => ({ method: 'GET', url: '/.well-known/jwks.json' }),
    },
    { label: 'OpenAPI', status: 200, request: () => ({ method: 'GET', url: '/openapi.json' }) },
    {
      label: 'status with a token',
      status: 200,
      request: () => ({ method: 'GET', url: '/auth/status', headers: bearer(token) }),
    },
    {
      label: 'status without a token',
      status: 401,
      request: () => ({ method: 'GET', url: '/auth/status' }),
    },
    {
      label: 'unknown /auth path',
      status: 404,
      request: () => ({ method: 'GET', url: '/auth/nope' }),
    },
    { label: 'unknown path, GET', status: 404, request: () => ({ method: 'GET', url: '/nope' }) },
    { label: 'unknown path, POST', status: 404, request: () => ({ method: 'POST', url: '/nope' }) },
    {
      label: 'malformed JSON',
      status: 400,
      request: () => ({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: '{"email":',
      }),
    },
    {
      label: 'validation failure',
      status: 400,
      request: () => ({
        method: 'POST',
        url: '/auth/password',
        headers: bearer(token),
        payload: {},
      }),
    },
    {
      label: 'wrong content type',
      status: 415,
      request: () => ({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      }),
    },
    {
      label: 'body too large',
      status: 413,
      request: () => ({
        method: 'POST',
        url: '/auth/register',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ email: 'a'.repeat(20_000), password: 'x' }),
      }),
    },
  ];

  for (const { label, status, request } of cases) {
    test(`${label} answers ${status} with the security headers`, async () => {
      const res = await t.app.inject(request());
      assert.equal(res.statusCode, status, `${label}: ${res.body}`);
      assertSecurityHeaders(res, label);
    });
  }

  test('every /auth and /admin answer is no-store, 404s and router errors included', async () => {
    const answers: [string, InjectOptions][] = [
      ['status', { method: 'GET', url: '/auth/status', headers: bearer(token) }],
      ['status without a token', { method: 'GET', url: '/auth/status' }],
      ['sessions', { method: 'GET', url: '/auth/sessions', headers: bearer(token) }],
      ['unknown /auth path', { method: 'GET', url: '/auth/nope' }],
      ['/auth itself', { method: 'GET', url: '/auth' }],
      ['wrong method on a known path', { method: 'PUT', url: '/auth/login' }],
      ['unknown /admin path', { method: 'POST', url: '/admin/users' }],
      ['bad percent-encoding', { method: 'GET', url: '/auth/sessions/%zz' }],
      ['overlong path parameter', { method: 'DELETE', url: `/auth/sessions/${'a'.repeat(200)}` }],
      [
        'malformed JSON',
        {
          method: 'POST',
          url: '/auth/login',
          headers: { 'content-type': 'application/json' },
          payload: '{',
        },
      ],
    ];
    for (const [label, request] of answers) {
      const res = await t.app.inject(request);
      assert.ok(res.statusCode < 500, `${label}: ${res.statusCode}`);
      assert.equal(res.headers['cache-control'], 'no-store', `${label} (${res.statusCode})`);
      // JSON answers: the short API header set, whatever answered (route, 404, router).
      assert.equal(
        res.headers['content-security-policy'],
        "default-src 'none';frame-ancestors 'none'",
        label,
      );
    }
  });

  test('answers outside /auth and /admin keep their own caching', async () => {
    const jwks = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(jwks.headers['cache-control'], 'public, max-age=60');
    const page = await t.app.inject({ method: 'GET', url: '/nope' });
    assert.notEqual(page.headers['cache-control'], 'no-store');
  });

  test('a rate-limited answer carries the security headers', async (ctx) => {
    const limited = await startApp(ctx, { RATE_LIMIT_PER_IP: '1' });
    const refresh = () =>
      limited.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
    assert.equal((await refresh()).statusCode, 401);
    const res = await refresh();
    assert.equal(res.statusCode, 429, res.body);
    assertSecurityHeaders(res, '429');
  });

  test('a URL with broken percent-encoding answers a JSON 400 with the security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/auth/%E0%A4%A' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(json(res), {
      status: 'fail',
      code: 'bad_request',
      message: json(res).message,
    });
    assertSecurityHeaders(res, 'bad URL');
  });

  test('a plain-http server sends no Strict-Transport-Security', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  test('an https PUBLIC_URL turns on Strict-Transport-Security and request upgrades', async (ctx) => {
    const secure = await startApp(ctx, { PUBLIC_URL: 'https://auth.example' });
    const res = await secure.app.inject({ method: 'GET', url: '/health' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
    // Documents (which load subresources) are upgraded; a JSON answer loads nothing.
    const page = await secure.app.inject({ method: 'GET', url: '/nope' });
    assert.match(String(page.headers['strict-transport-security']), /max-age=\d+/);
    assert.match(String(page.headers['content-security-policy']), /upgrade-insecure-requests/);
  });

  test('no page of a plain-http server asks browsers to upgrade to https', async () => {
    for (const url of ['/health', '/auth/nope', '/nope', '/openapi.json', '/docs/']) {
      const res = await t.app.inject({ method: 'GET', url });
      const csp = String(res.headers['content-security-policy']);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, `${url} sends CSP ${csp}`);
    }
  });
});

describe('refresh cookie attributes', () => {
  async function cookiesWith(ctx: TestContext, env: Record<string, string>) {
    const t = await startApp(ctx, env);
    const user = await registerUser(t.app);
    const registerRes = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: user.password },
    });
    const set = refreshSetCookieHeader(registerRes);
    assert.ok(set, 'login sets the refresh cookie');
    const logoutRes = await t.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: bearer(user.token),
      cookies: { latchkey_refresh: user.refresh },
    });
    assert.equal(logoutRes.statusCode, 200, logoutRes.body);
    const cleared = refreshSetCookieHeader(logoutRes);
    assert.ok(cleared, 'logout clears the refresh cookie');
    return { set, cleared };
  }

  const attributes = (header: string) =>
    header
      .split(';')
      .slice(1)
      .map((s) => s.trim().toLowerCase());

  test('COOKIE_SAMESITE=Lax sets SameSite=Lax', async (ctx) => {
    const { set, cleared } = await cookiesWith(ctx, { COOKIE_SAMESITE: 'Lax' });
    for (const header of [set, cleared]) {
      const attrs = attributes(header);
      assert.ok(attrs.includes('samesite=lax'), header);
      assert.ok(attrs.includes('secure'), header);
      assert.ok(attrs.includes('httponly'), header);
      assert.ok(attrs.includes('path=/auth'), header);
    }
  });

  test('COOKIE_SAMESITE=None sets SameSite=None and Secure even with COOKIE_SECURE=false', async (ctx) => {
    const { set, cleared } = await cookiesWith(ctx, {
      COOKIE_SAMESITE: 'None',
      COOKIE_SECURE: 'false',
    });
    for (const header of [set, cleared]) {
      const attrs = attributes(header);
      assert.ok(attrs.includes('samesite=none'), header);
      assert.ok(attrs.includes('secure'), header);
      assert.ok(attrs.includes('httponly'), header);
    }
  });

  test('COOKIE_SECURE=false drops Secure and keeps SameSite=Strict', async (ctx) => {
    const { set, cleared } = await cookiesWith(ctx, { COOKIE_SECURE: 'false' });
    for (const header of [set, cleared]) {
      const attrs = attributes(header);
      assert.ok(!attrs.includes('secure'), header);
      assert.ok(attrs.includes('samesite=strict'), header);
      assert.ok(attrs.includes('httponly'), header);
      assert.ok(attrs.includes('path=/auth'), header);
    }
  });
});

describe('API documentation', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  test('GET /openapi.json is an OpenAPI 3.1 document of every endpoint', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    const expected: [string, string[]][] = [
      ['/auth/register', ['post']],
      ['/auth/login', ['post']],
      ['/auth/status', ['get']],
      ['/auth/refresh', ['post']],
      ['/auth/logout', ['post']],
      ['/auth/sessions', ['get', 'delete']],
      ['/auth/password', ['post']],
    ];
    for (const [path, methods] of expected) {
      const item = doc.paths[path];
      assert.ok(item, `${path} is documented`);
      for (const method of methods)
        assert.ok(item[method], `${method.toUpperCase()} ${path} is documented`);
    }
  });

  test('GET /docs/ serves an HTML page whose scripts and styles all come from this server', async () => {
    const base = 'http://localhost';
    let url = new URL('/docs/', base);
    let res = await t.app.inject({ method: 'GET', url: url.pathname });
    for (let hops = 0; res.statusCode >= 300 && res.statusCode < 400 && hops < 5; hops++) {
      url = new URL(String(res.headers['location']), url);
      assert.equal(url.origin, base, 'the docs redirect stays on this server');
      res = await t.app.inject({ method: 'GET', url: url.pathname + url.search });
    }
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);

    const html = res.body;
    const scripts = [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map(
      (m) => m[1],
    );
    const links = [...html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']([^"']+)["']/gi)].map(
      (m) => m[1],
    );
    const stylesheets = [...html.matchAll(/<link\b[^>]*>/gi)]
      .map((m) => m[0])
      .filter((tag) => /rel\s*=\s*["']?stylesheet/i.test(tag));
    assert.ok(scripts.length > 0, 'the page loads scripts');
    assert.ok(stylesheets.length > 0, 'the page loads stylesheets');

    for (const ref of [...scripts, ...links]) {
      assert.ok(ref !== undefined);
      const asset = new URL(ref, url);
      assert.equal(asset.origin, base, `${ref} is served by this server`);
      const assetRes = await t.app.inject({ method: 'GET', url: asset.pathname + asset.search });
      assert.equal(assetRes.statusCode, 200, `${ref} answers ${assetRes.statusCode}`);
    }
  });
});

describe('the web app next to the API', () => {
  test('GET /admin serves the app’s page with the document CSP and no-store; /admin/… stays API', async (ctx) => {
    const webDir = mkdtempSync(join(tmpdir(), 'latchkey-web-'));
    writeFileSync(
      join(webDir, 'index.html'),
      '<!doctype html><title>app</title><script src="/main.js"></script>',
    );
    const t = await createTestApp({ env: { WEB_DIR: webDir } });
    ctx.after(async () => {
      await t.close();
      rmSync(webDir, { recursive: true, force: true });
    });
    const page = await t.app.inject({ method: 'GET', url: '/admin' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /<title>app<\/title>/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    const other = await t.app.inject({ method: 'GET', url: '/account' });
    assert.match(String(other.headers['content-security-policy']), /script-src 'self'/);
    for (const url of ['/admin/nothing-here', '/auth/nothing-here']) {
      const api = await t.app.inject({ method: 'GET', url });
      assert.equal(api.statusCode, 404, url);
      assert.equal(json(api).code, 'not_found', url);
      assert.equal(api.headers['cache-control'], 'no-store', url);
    }
  });
});

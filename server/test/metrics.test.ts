import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test, type TestContext } from 'node:test';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import {
  bearer,
  createTestApp,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  logIn,
  logoutWithBearer,
  refreshCookieOf,
  refreshWith,
  registerUser,
  status,
  type TestApp,
  uniqueEmail,
} from './support/test-app.ts';
import { startTestSmtp, type TestSmtp } from './support/test-smtp.ts';

const METRICS_TOKEN = 'metrics-test-token-0123456789abcdef';

let smtp: TestSmtp;
before(async () => {
  smtp = await startTestSmtp();
});
after(() => smtp.close());
afterEach(() => {
  smtp.refusing = false;
});

/** An app with /metrics on, its mail going to the test SMTP server; closed when the test ends. */
async function metricsApp(ctx: TestContext, env: Record<string, string> = {}): Promise<TestApp> {
  const app = await createTestApp({ env: { METRICS_TOKEN, SMTP_URL: smtp.url, ...env } });
  ctx.after(() => app.close());
  return app;
}

/** GET /metrics as Prometheus scrapes it, parsed by a Prometheus text-format parser. */
async function scrape(t: TestApp): Promise<Scraped> {
  const res = await t.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: bearer(METRICS_TOKEN),
  });
  assert.equal(res.statusCode, 200, res.body);
  return { text: res.body, families: parsePrometheusTextFormat(res.body) };
}

interface Scraped {
  text: string;
  families: ParsedFamily[];
}

function family(scraped: Scraped, name: string): ParsedFamily {
  const found = scraped.families.find((f) => f.name === name);
  assert.ok(found, `${name} is exported`);
  return found;
}

/** The value of the sample of `name` whose labels include `labels`; 0 when there is none. */
function valueOf(scraped: Scraped, name: string, labels: Record<string, string> = {}): number {
  const sample = family(scraped, name).metrics.find((m) =>
    Object.entries(labels).every(([key, value]) => m.labels?.[key] === value),
  );
  return sample?.value === undefined ? 0 : Number(sample.value);
}

/** The observation count and sum of the histogram `name` (one without labels). */
function histogramOf(scraped: Scraped, name: string): { count: number; sum: number } {
  const f = family(scraped, name);
  assert.equal(f.type, 'HISTOGRAM', `${name} is a histogram`);
  const [sample] = f.metrics;
  return { count: Number(sample?.count ?? 0), sum: Number(sample?.sum ?? 0) };
}

describe('GET /metrics access', () => {
  test('without METRICS_TOKEN /metrics answers 404, even where the web app answers other paths', async (ctx) => {
    const webDir = mkdtempSync(join(tmpdir(), 'latchkey-metrics-web-'));
    ctx.after(() => rmSync(webDir, { recursive: true, force: true }));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>app</title>');
    const t = await createTestApp({ env: { WEB_DIR: webDir } });
    ctx.after(() => t.close());
    assert.equal((await t.app.inject({ method: 'GET', url: '/account' })).statusCode, 200);
    for (const headers of [{}, bearer(METRICS_TOKEN)]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(json(res).code, 'not_found');
    }
  });

  test('/metrics answers 401 without a bearer token and with a wrong one', async (ctx) => {
    const t = await metricsApp(ctx);
    const cases: [string, Record<string, string>, string][] = [
      ['no header', {}, 'missing_token'],
      ['a wrong token', bearer('metrics-test-token-0123456789abcdeX'), 'invalid_token'],
      ['a prefix of the token', bearer(METRICS_TOKEN.slice(0, 20)), 'invalid_token'],
      ['another scheme', { authorization: `Basic ${METRICS_TOKEN}` }, 'invalid_token'],
    ];
    for (const [what, headers, code] of cases) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', headers });
      assert.equal(res.statusCode, 401, what);
      assert.equal(json(res).code, code, what);
      assert.equal(res.headers['www-authenticate'], 'Bearer', what);
      assert.ok(!res.body.includes('latchkey_'), `${what}: no metric in the answer`);
    }
  });

  test('/metrics with the token answers the Prometheus text format, never cached', async (ctx) => {
    const t = await metricsApp(ctx);
    const res = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: bearer(METRICS_TOKEN),
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const families = parsePrometheusTextFormat(res.body);
    const names = families.map((f) => f.name);
    for (const name of [
      'latchkey_http_requests_total',
      'latchkey_logins_total',
      'latchkey_refreshes_total',
      'latchkey_refresh_token_reuses_total',
      'latchkey_revocations_total',
      'latchkey_rate_limit_refusals_total',
      'latchkey_password_hash_seconds',
      'latchkey_password_verify_seconds',
      'latchkey_password_hash_queue_length',
      'latchkey_mails_sent_total',
      'latchkey_mail_failures_total',
      'latchkey_revocation_propagation_seconds',
      'latchkey_revocations_unconfirmed_total',
      'latchkey_access_token_cache_lookups_total',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      assert.ok(names.includes(name), `${name} is exported`);
    }
  });
});

describe('GET /metrics values', () => {
  test('requests are counted by method, route pattern and status; unknown URLs as one route', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    await logIn(t.app, user.email);
    const sid = String(jwtClaims(user.token).sid);
    const other = await logIn(t.app, user.email);
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/auth/sessions/${String(jwtClaims(other.token).sid)}`,
      headers: bearer(user.token),
    });
    assert.equal(deleted.statusCode, 200, deleted.body);
    for (const path of ['/nope', '/nope/2', `/${sid}`]) {
      assert.equal((await t.app.inject({ method: 'GET', url: path })).statusCode, 404);
    }

    const m = await scrape(t);
    const requests = (labels: Record<string, string>) =>
      valueOf(m, 'latchkey_http_requests_total', labels);
    assert.equal(requests({ method: 'POST', route: '/auth/register', status: '201' }), 1);
    assert.equal(requests({ method: 'POST', route: '/auth/login', status: '200' }), 2);
    assert.equal(requests({ method: 'DELETE', route: '/auth/sessions/:id', status: '200' }), 1);
    assert.equal(requests({ method: 'GET', route: 'unmatched', status: '404' }), 3);
    const routes = new Set(
      family(m, 'latchkey_http_requests_total').metrics.map((s) => s.labels?.['route']),
    );
    assert.ok(![...routes].some((route) => route?.includes('nope') || route?.includes(sid)));
  });

  test('logins are counted by outcome and reason', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    await logIn(t.app, user.email);
    const login = (email: string, password: string) =>
      t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
    assert.equal((await login(user.email, 'not the password at all')).statusCode, 401);
    assert.equal((await login(user.email, 'not the password either')).statusCode, 401);
    assert.equal((await login(uniqueEmail('nobody'), GOOD_PASSWORD)).statusCode, 401);

    const m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_logins_total', { outcome: 'succeeded' }), 1);
    assert.equal(
      valueOf(m, 'latchkey_logins_total', { outcome: 'failed', reason: 'bad_password' }),
      2,
    );
    assert.equal(
      valueOf(m, 'latchkey_logins_total', { outcome: 'failed', reason: 'unknown_account' }),
      1,
    );
    assert.equal(
      valueOf(m, 'latchkey_http_requests_total', { route: '/auth/login', status: '401' }),
      3,
    );
    assert.equal(valueOf(m, 'latchkey_security_events_total', { type: 'registered' }), 1);
  });

  test('refreshes count; a reuse counts a reuse, a refusal and a revocation', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    const first = await refreshWith(t.app, user.refresh);
    assert.equal(first.statusCode, 200, first.body);
    assert.ok(refreshCookieOf(first));
    t.clock.advance((Number(t.config.refreshReuseGraceSeconds) + 1) * 1000);
    const reused = await refreshWith(t.app, user.refresh);
    assert.equal(reused.statusCode, 401, reused.body);

    const m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_refreshes_total', { outcome: 'succeeded' }), 1);
    assert.equal(valueOf(m, 'latchkey_refreshes_total', { outcome: 'refused' }), 1);
    assert.equal(valueOf(m, 'latchkey_refresh_token_reuses_total'), 1);
    assert.equal(valueOf(m, 'latchkey_revocations_total', { reason: 'refresh_token_reuse' }), 1);
  });

  test('a logout counts a revocation', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    const m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_revocations_total', { reason: 'signed_out' }), 1);
  });

  test('a 429 counts a rate-limit refusal of its route', async (ctx) => {
    const t = await metricsApp(ctx, { RATE_LIMIT_PER_IP: '1' });
    const refresh = () => refreshWith(t.app, 'not-a-refresh-token');
    assert.equal((await refresh()).statusCode, 401);
    assert.equal((await refresh()).statusCode, 429);
    assert.equal((await refresh()).statusCode, 429);
    const m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_rate_limit_refusals_total', { route: '/auth/refresh' }), 2);
    assert.equal(
      valueOf(m, 'latchkey_http_requests_total', { route: '/auth/refresh', status: '429' }),
      2,
    );
  });

  test('password hashing reports its time per operation and its queue', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    await logIn(t.app, user.email);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: uniqueEmail('nobody'), password: GOOD_PASSWORD },
    });
    assert.equal(wrong.statusCode, 401);
    const m = await scrape(t);
    const hashes = histogramOf(m, 'latchkey_password_hash_seconds');
    const checks = histogramOf(m, 'latchkey_password_verify_seconds');
    assert.equal(hashes.count, 1, 'the registration hashed one password');
    // The unknown email's dummy check counts as a check like any other (no oracle here either).
    assert.equal(checks.count, 2, 'the login and the unknown email each checked one');
    assert.ok(hashes.sum > 0 && checks.sum > 0, 'the time is measured');
    // Nothing is hashing between requests: the gauges read the hasher's queue at scrape time.
    assert.equal(family(m, 'latchkey_password_hash_queue_length').type, 'GAUGE');
    assert.equal(valueOf(m, 'latchkey_password_hash_queue_length'), 0);
    assert.equal(valueOf(m, 'latchkey_password_hashes_running'), 0);
  });

  test('the verified-token cache reports its hits and misses', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app);
    const before = await scrape(t);
    for (let i = 0; i < 3; i++) assert.equal((await status(t.app, user.token)).statusCode, 200);
    const m = await scrape(t);
    const delta = (result: string) =>
      valueOf(m, 'latchkey_access_token_cache_lookups_total', { result }) -
      valueOf(before, 'latchkey_access_token_cache_lookups_total', { result });
    // The first check verifies the signature, the next two find it in the cache.
    assert.equal(delta('miss'), 1);
    assert.equal(delta('hit'), 2);
    assert.ok(valueOf(m, 'latchkey_access_token_cache_entries') >= 1);
  });

  test('mails sent and failed deliveries are counted', async (ctx) => {
    const t = await metricsApp(ctx);
    const sent = await registerUser(t.app, uniqueEmail('sent'));
    await smtp.waitFor((mail) => mail.to === sent.email);
    await t.services.mailSender.runOnce();
    let m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_mails_sent_total'), 1);
    assert.equal(valueOf(m, 'latchkey_mail_failures_total', { gave_up: 'false' }), 0);

    smtp.refusing = true;
    await registerUser(t.app, uniqueEmail('refused'));
    await t.services.mailSender.runOnce();
    m = await scrape(t);
    assert.equal(valueOf(m, 'latchkey_mails_sent_total'), 1);
    assert.equal(valueOf(m, 'latchkey_mail_failures_total', { gave_up: 'false' }), 1);
  });

  test('a logout seen by a second instance observes the revocation propagation delay', async (ctx) => {
    const t = await metricsApp(ctx);
    const alone = await registerUser(t.app);
    assert.equal((await logoutWithBearer(t.app, alone.token)).statusCode, 200);
    assert.equal(
      histogramOf(await scrape(t), 'latchkey_revocation_propagation_seconds').count,
      0,
      'nothing to propagate to without another instance',
    );

    const other = await createTestApp({ store: t.store, keepStore: true, clock: t.clock });
    ctx.after(() => other.close());
    const user = await registerUser(t.app);
    assert.equal((await status(other.app, user.token)).statusCode, 200);
    assert.equal((await logoutWithBearer(t.app, user.token)).statusCode, 200);
    assert.equal((await status(other.app, user.token)).statusCode, 401);

    const m = await scrape(t);
    const delay = histogramOf(m, 'latchkey_revocation_propagation_seconds');
    assert.equal(delay.count, 1);
    assert.ok(
      delay.sum > 0 && delay.sum < t.config.revocationFailClosedMs / 1000,
      `${delay.sum} s`,
    );
    assert.equal(valueOf(m, 'latchkey_revocations_unconfirmed_total'), 0);
  });

  test('the metrics hold no token, email, password, user or session id', async (ctx) => {
    const t = await metricsApp(ctx);
    const user = await registerUser(t.app, uniqueEmail('secretive'));
    await smtp.waitFor((mail) => mail.to === user.email);
    const refreshed = await refreshWith(t.app, user.refresh);
    await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: 'a wrong password typed here' },
    });
    await t.app.inject({ method: 'GET', url: `/auth/${user.token}` });
    await t.app.inject({ method: 'GET', url: `/${encodeURIComponent(user.email)}` });
    const { text } = await scrape(t);
    const claims = jwtClaims(user.token);
    const mail = smtp.mails.find((m) => m.to === user.email);
    for (const [what, secret] of [
      ['the access token', user.token],
      ['the refresh token', user.refresh],
      ['the rotated refresh token', refreshCookieOf(refreshed) ?? ''],
      ['the email', user.email],
      ['the email, encoded', encodeURIComponent(user.email)],
      ['the password', GOOD_PASSWORD],
      ['the wrong password', 'a wrong password typed here'],
      ['the user id', String(claims.sub)],
      ['the session id', String(claims.sid)],
      ['the verification token', mail?.token ?? ''],
      ['the metrics token', METRICS_TOKEN],
    ] as const) {
      assert.ok(secret.length > 8, `${what} is known`);
      assert.ok(!text.includes(secret), `${what} is not in the metrics`);
    }
  });
});

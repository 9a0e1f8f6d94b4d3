import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createTestApp, type TestApp } from './support/test-app.ts';

const PUBLIC_URL = 'http://127.0.0.1:3000';
const LISTED = 'https://app.example';

/** An app whose warnings are collected as parsed pino lines. */
async function appWithLog(
  ctx: TestContext,
): Promise<{ t: TestApp; warnings: () => Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const t = await createTestApp({ env: { PUBLIC_URL, CORS_ORIGINS: LISTED }, logLines: lines });
  ctx.after(() => t.close());
  const warnings = () => lines.filter((l) => l['level'] === 40);
  return { t, warnings };
}

const refresh = (t: TestApp, origin: string, host = '127.0.0.1:3000') =>
  t.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    headers: { origin, host, 'content-type': 'application/json' },
    payload: '{}',
  });

test('a refused Origin is logged once, naming the origin and the settings to change', async (ctx) => {
  const { t, warnings } = await appWithLog(ctx);

  const first = await refresh(t, 'http://localhost:4200');
  const second = await refresh(t, 'http://localhost:4200');

  assert.equal(first.statusCode, 403);
  assert.equal(second.statusCode, 403);
  const logged = warnings();
  assert.equal(logged.length, 1, JSON.stringify(logged));
  const [warning] = logged;
  assert.equal(warning?.['event'], 'origin_refused');
  assert.equal(warning?.['origin'], 'http://localhost:4200');
  const message = String(warning?.['msg']);
  assert.match(message, /"http:\/\/localhost:4200"/);
  assert.match(message, /CORS_ORIGINS \(https:\/\/app\.example\)/);
  assert.match(message, /PUBLIC_URL=http:\/\/127\.0\.0\.1:3000/);
});

test('a cross-origin API request without CORS approval is logged as well (the browser hides its answer)', async (ctx) => {
  const { t, warnings } = await appWithLog(ctx);

  const res = await t.app.inject({
    method: 'GET',
    url: '/auth/status',
    headers: { origin: 'https://elsewhere.example', host: '127.0.0.1:3000' },
  });

  assert.equal(res.statusCode, 401);
  assert.equal(res.headers['access-control-allow-origin'], undefined);
  assert.deepEqual(
    warnings().map((w) => w['origin']),
    ['https://elsewhere.example'],
  );
});

test('served origins log nothing: same host (as behind a dev-server proxy), PUBLIC_URL, CORS_ORIGINS, none', async (ctx) => {
  const { t, warnings } = await appWithLog(ctx);

  await refresh(t, 'http://localhost:4200', 'localhost:4200');
  await refresh(t, PUBLIC_URL);
  await refresh(t, LISTED);
  await t.app.inject({ method: 'GET', url: '/auth/status' });

  assert.deepEqual(warnings(), []);
});

test('at most 100 distinct refused origins are logged', async (ctx) => {
  const { t, warnings } = await appWithLog(ctx);

  for (let i = 0; i < 120; i++) await refresh(t, `https://made-up-${i}.example`);

  assert.equal(warnings().length, 100);
});

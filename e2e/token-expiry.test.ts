/**
 * Short-lived access tokens (3 s) and a short reuse grace (2 s): expiry is invisible to the user,
 * and tabs refreshing at once never trip theft detection.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import {
  accountNav,
  focus,
  pathOf,
  register,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';
import { assertNothingTokenLikeReadable, recordAccessTokens } from './support/page-checks.ts';

const ACCESS_TOKEN_TTL_S = 3;
/** Long enough for any access token a page holds to have expired (`exp` is iat + TTL, in s). */
const PAST_EXPIRY_MS = ACCESS_TOKEN_TTL_S * 1_000 + 500;

const suite = useSuite({
  env: { ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_S), REFRESH_REUSE_GRACE: '2' },
});

function countRequests(page: Page, method: string, path: string): () => number {
  let count = 0;
  page.on('request', (request) => {
    if (request.method() === method && new URL(request.url()).pathname === path) count += 1;
  });
  return () => count;
}

/** Delays every request of `page` by `latencyMs`, as a slow network does. */
async function addLatency(page: Page, latencyMs: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: latencyMs,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}

async function waitForSessionItems(page: Page): Promise<void> {
  await page.getByRole('list', { name: 'Your sessions' }).getByRole('listitem').first().waitFor();
}

suite.test('an expired access token is refreshed without the user noticing', async (t) => {
  // The first call with the expired token answers 401 token_expired, then is retried.
  t.expectFailedRequest(401, /^\/auth\/sessions$/);
  const context = await t.newContext();
  const page = await context.newPage();
  const tokens = recordAccessTokens(context);
  const email = uniqueEmail();
  await t.open(page, '/register');
  await register(page, email);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);

  const sessionCalls = countRequests(page, 'GET', '/auth/sessions');
  const refreshCalls = countRequests(page, 'POST', '/auth/refresh');
  await sleep(PAST_EXPIRY_MS);
  await accountNav(page).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(page, '/sessions');
  await waitForSessionItems(page);
  assert.equal(await page.getByRole('alert').count(), 0);
  assert.equal(pathOf(page), '/sessions', 'no redirect');
  await waitSignedIn(page, email);
  // The token really had expired: one refused call, one refresh, one retry.
  assert.equal(sessionCalls(), 2);
  assert.equal(refreshCalls(), 1);
  await assertNothingTokenLikeReadable(page, tokens, 'after a refresh');

  await sleep(PAST_EXPIRY_MS);
  await page.reload();
  await waitForPath(page, '/sessions');
  await waitForSessionItems(page);
  await waitSignedIn(page, email);
  assert.equal(await page.getByRole('alert').count(), 0);
});

suite.test('tabs reloading together after expiry all stay signed in', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/sessions$/);
  const context = await t.newContext();
  const email = uniqueEmail();
  // Three pages, not one page thrice: Chromium queues loads of one URL behind each other (its
  // cache lock), which would space the reloads out.
  const paths = ['/status', '/sessions', '/'];
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  const [first, second, third] = tabs;
  assert.ok(first !== undefined && second !== undefined && third !== undefined);
  await t.open(first, '/register');
  await register(first, email);
  await waitForPath(first, '/status');
  await t.open(second, '/sessions');
  await waitSignedIn(second, email);
  await t.open(third, '/');
  await waitSignedIn(third, email);

  // A slow network (200 ms a round trip) makes the three start-up refreshes overlap: each tab
  // would read the cookie jar before a rotated cookie comes back, unless the tabs take turns.
  for (const tab of tabs) await addLatency(tab, 200);
  await sleep(PAST_EXPIRY_MS);
  await Promise.all(tabs.map((tab) => tab.reload()));
  for (const [i, tab] of tabs.entries()) {
    await waitForPath(tab, paths[i] ?? '');
    await waitSignedIn(tab, email);
  }
  await waitForSessionItems(second);

  // Past the reuse grace window (2 s) a rotated cookie presented again would end the session.
  // Once the new tokens expired too, the next call refreshes again, and a reload as well.
  await sleep(PAST_EXPIRY_MS);
  await focus(first);
  await accountNav(first).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(first, '/sessions');
  await waitForSessionItems(first);
  assert.equal(await first.getByRole('alert').count(), 0);
  await focus(third);
  await third.reload();
  await waitForPath(third, '/');
  await waitSignedIn(third, email);
  for (const tab of tabs) await waitSignedIn(tab, email);
});

suite.test('logging out with an expired access token still ends the session', async (t) => {
  const context = await t.newContext();
  const page = await context.newPage();
  const other = await context.newPage();
  const email = uniqueEmail();
  await t.open(page, '/register');
  await register(page, email);
  await waitForPath(page, '/status');
  await t.open(other, '/sessions');
  await waitForSessionItems(other);

  await sleep(PAST_EXPIRY_MS);
  await focus(page);
  await accountNav(page).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
  await waitForPath(other, '/login', { timeoutMs: 2_000 });
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  assert.equal(await accountNav(page).getByRole('button', { name: 'Log out' }).count(), 0);
});

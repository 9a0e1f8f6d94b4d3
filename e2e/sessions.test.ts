/**
 * Sessions across tabs and browsers: the sessions page, ending other sessions, and a log out in
 * one tab reaching the others.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import {
  accountNav,
  focus,
  register,
  registerViaApi,
  uniqueEmail,
  signIn,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

const suite = useSuite();

function sessionList(page: Page) {
  return page.getByRole('list', { name: 'Your sessions' }).getByRole('listitem');
}

async function waitForCount(page: Page, count: number): Promise<void> {
  await sessionList(page)
    .nth(count - 1)
    .waitFor();
  await sessionList(page).nth(count).waitFor({ state: 'detached' });
}

/** Marks the current document, to tell a client-side navigation from a page load. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __marker?: number }).__marker = 1;
  });
}

async function documentIsMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __marker?: number }).__marker === 1);
}

suite.test('logging out in one tab signs out the other tabs within 2 seconds', async (t) => {
  const context = await t.newContext();
  const first = await context.newPage();
  const email = uniqueEmail();
  await t.open(first, '/register');
  await register(first, email);
  await waitForPath(first, '/status');

  const second = await context.newPage();
  await t.open(second, '/sessions');
  await waitSignedIn(second, email);
  const third = await context.newPage();
  await t.open(third, '/');
  await waitSignedIn(third, email);
  await third.getByRole('link', { name: 'Go to your account' }).waitFor();

  // The other tabs are in the background now, as they would be.
  await focus(first);
  const started = Date.now();
  await accountNav(first).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(second, '/login', { timeoutMs: 2_000 });
  await accountNav(second)
    .getByRole('button', { name: 'Log out' })
    .waitFor({
      state: 'detached',
      timeout: Math.max(1, 2_000 - (Date.now() - started)),
    });
  await third.getByRole('link', { name: 'Log in' }).waitFor({
    timeout: Math.max(1, 2_000 - (Date.now() - started)),
  });
  assert.equal(await accountNav(third).getByRole('button', { name: 'Log out' }).count(), 0);
  assert.ok(Date.now() - started <= 2_000, `signed out everywhere in ${Date.now() - started} ms`);
  await waitForPath(first, '/login');

  // And it sticks: a reload of the other tab stays signed out.
  await second.reload();
  await second.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await waitForPath(second, '/login');
  assert.equal(await accountNav(second).getByRole('button', { name: 'Log out' }).count(), 0);
});

suite.test('the sessions page lists each device and signs one out in place', async (t) => {
  // Context B's access token is revoked: its next API call answers 401 token_revoked.
  t.expectFailedRequest(401, /^\/auth\/sessions$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const a = await t.newPage();
  const b = await t.newPage();
  await signIn(t, a, email);
  await signIn(t, b, email);

  // Links navigate inside the app: the document survives.
  await markDocument(a);
  await accountNav(a).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(a, '/sessions');
  await a.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
  await waitForCount(a, 2);
  assert.equal(await documentIsMarked(a), true, 'the Sessions link did not reload the page');

  const items = sessionList(a);
  const current = items.filter({ hasText: 'This device' });
  const other = items.filter({ hasNotText: 'This device' });
  assert.equal(await current.count(), 1);
  assert.equal(await other.count(), 1);
  assert.equal(await current.getByRole('button').count(), 0);
  assert.equal(await other.getByRole('button', { name: /^Sign out .*, IP / }).count(), 1);
  for (const text of [await current.textContent(), await other.textContent()]) {
    assert.match(text ?? '', /Chrome on Linux/);
    assert.match(text ?? '', /IP 127\.0\.0\.1/);
    assert.match(text ?? '', /last used/);
  }
  await a.getByRole('button', { name: 'Sign out other sessions' }).waitFor();
  await t.screenshot(a, 'sessions');

  await other.getByRole('button', { name: /^Sign out .*, IP / }).click();
  await waitForCount(a, 1);
  assert.equal(await sessionList(a).filter({ hasText: 'This device' }).count(), 1);
  assert.equal(await a.getByRole('button', { name: 'Sign out other sessions' }).count(), 0);
  assert.equal(await a.getByRole('alert').count(), 0);
  assert.equal(await documentIsMarked(a), true, 'signing out a session did not reload the page');

  // B still believes it is signed in until its next request, which ends it there.
  await accountNav(b).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(b, '/login');
  assert.equal(await accountNav(b).getByRole('button', { name: 'Log out' }).count(), 0);
  await b.reload();
  await b.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await waitForPath(b, '/login');

  // A is untouched, and its links still stay inside the app.
  await a.getByRole('link', { name: 'Latchkey' }).click();
  await waitForPath(a, '/');
  await a.getByRole('link', { name: 'Go to your account' }).click();
  await waitForPath(a, '/status');
  await waitSignedIn(a, email);
  assert.equal(await documentIsMarked(a), true, 'the header links did not reload the page');
});

suite.test('signing out other sessions ends every session but this one', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const a = await t.newPage();
  const b = await t.newPage();
  const c = await t.newPage();
  await signIn(t, a, email);
  await signIn(t, b, email);
  await signIn(t, c, email);

  await t.open(a, '/sessions');
  await waitForCount(a, 3);
  await markDocument(a);
  await a.getByRole('button', { name: 'Sign out other sessions' }).click();
  await waitForCount(a, 1);
  assert.equal(await sessionList(a).filter({ hasText: 'This device' }).count(), 1);
  assert.equal(await a.getByRole('button', { name: 'Sign out other sessions' }).count(), 0);
  assert.equal(await documentIsMarked(a), true);

  for (const page of [b, c]) {
    await page.reload();
    await waitForPath(page, '/login', { query: 'returnUrl=%2Fstatus' });
  }
  await a.reload();
  await waitForPath(a, '/sessions');
  await waitForCount(a, 1);
  await waitSignedIn(a, email);
});

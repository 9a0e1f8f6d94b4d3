/**
 * What a new user noticed in the reference app: focus on a failed submit's message, a taken
 * email marked with a way to log in, a "Show password" toggle, when a throttled login may try
 * again, a notice for a session ended elsewhere, the pending and unavailable states (and a
 * header that keeps its height), a logout the server did not confirm, a real 404 page, and
 * "Sign out" buttons that say which device. Answers the server cannot be made to give on demand
 * (a slow or refused start-up refresh, a failed logout) come from Playwright's request routing.
 */
import assert from 'node:assert/strict';
import type { Page, Route } from 'playwright-core';
import {
  PASSWORD,
  accountNav,
  eventually,
  logIn,
  register,
  registerViaApi,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

// Two failures lock an email for the window, so the throttled login is quick to reach.
const suite = useSuite({ env: { LOGIN_MAX_FAILURES: '2' } });

/** The element that has focus: its role attribute and text. */
async function focused(page: Page): Promise<{ role: string | null; text: string }> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return { role: element?.getAttribute('role') ?? null, text: element?.textContent ?? '' };
  });
}

/** A Latchkey failure answer for `route`. */
function fulfilFailure(route: Route, status: number, code: string, headers = {}): Promise<void> {
  return route.fulfill({
    status,
    contentType: 'application/json',
    headers,
    body: JSON.stringify({ status: 'fail', code, message: 'Too many requests.' }),
  });
}

suite.test('a failed login moves focus to the message', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/login$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');

  await logIn(page, email, `${PASSWORD}-wrong`);
  await page.getByRole('alert').waitFor();

  const active = await focused(page);
  assert.equal(active.role, 'alert');
  assert.match(active.text, /Invalid email or password\./);
});

suite.test('registering a taken email marks the field and links to log in', async (t) => {
  t.expectFailedRequest(409, /^\/auth\/register$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/register');

  await register(page, email);
  const alert = page.getByRole('alert');
  await alert.getByText('User already exists. Please log in.').waitFor();

  const field = page.getByLabel('Email');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
  assert.match((await page.locator(`#${describedBy}`).textContent()) ?? '', /exists/);
  await alert.getByRole('link', { name: 'Log in with this email' }).click();
  await waitForPath(page, '/login');
  await logIn(page, email);
  await waitForPath(page, '/status');
});

suite.test('"Show password" shows and hides what was typed', async (t) => {
  const page = await t.newPage();
  await t.open(page, '/login');
  const password = page.getByLabel('Password');
  const toggle = page.getByRole('button', { name: 'Show password' });
  await password.fill('typed secret');

  const shows = (type: string, pressed: string) =>
    eventually(
      async () =>
        (await password.getAttribute('type')) === type &&
        (await toggle.getAttribute('aria-pressed')) === pressed,
      `the password input is ${type}, the toggle pressed=${pressed}`,
    );

  await shows('password', 'false');
  await toggle.click();
  await shows('text', 'true');
  assert.equal(await password.inputValue(), 'typed secret');
  await toggle.click();
  await shows('password', 'false');
});

suite.test('a throttled login says when to try again', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/login$/);
  t.expectFailedRequest(429, /^\/auth\/login$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');

  for (let i = 0; i < 2; i++) {
    await logIn(page, email, `${PASSWORD}-wrong-${i}`);
    await page.getByRole('alert').getByText('Invalid email or password.').waitFor();
  }
  const answer = page.waitForResponse((r) => r.url().endsWith('/auth/login'));
  await logIn(page, email, PASSWORD);
  const response = await answer;

  assert.equal(response.status(), 429);
  const seconds = Number(response.headers()['retry-after']);
  const minutes = Math.ceil(seconds / 60);
  await page
    .getByRole('alert')
    .getByText(`Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`)
    .waitFor();
});

suite.test('a session ended from another device lands on /login with a notice', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/sessions$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const here = await t.newPage();
  await t.open(here, '/login');
  await logIn(here, email);
  await waitSignedIn(here, email);

  const there = await t.newPage();
  await t.open(there, '/login');
  await logIn(there, email);
  await waitForPath(there, '/status');
  await accountNav(there).getByRole('link', { name: 'Sessions' }).click();
  await there.getByRole('button', { name: /^Sign out .*, IP / }).click();
  await there.getByRole('button', { name: /^Sign out .*, IP / }).waitFor({ state: 'detached' });

  await accountNav(here).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(here, '/login');
  await here.getByRole('status').getByText('Your session was ended elsewhere').waitFor();
  await logIn(here, email);
  await waitForPath(here, '/status');
  assert.equal(await here.getByText('Your session was ended elsewhere').count(), 0);
});

suite.test('each "Sign out" button names the device it signs out', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const first = await t.newPage();
  await t.open(first, '/login');
  await logIn(first, email);
  await waitForPath(first, '/status');
  const second = await t.newPage();
  await t.open(second, '/login');
  await logIn(second, email);
  await waitForPath(second, '/status');
  await t.open(second, '/sessions');

  const button = second.getByRole('button', { name: /^Sign out .*, IP / });
  await button.waitFor();
  const name = (await button.evaluate((b) => b.textContent ?? '')).replace(/\s+/g, ' ').trim();
  assert.match(name, /^Sign out Chrom(e|ium) on Linux, IP 127\.0\.0\.1$/);
  // Only "Sign out" is visible; the device is for assistive technology (1px, clipped).
  const shown = await button.evaluate((b) => ({
    label: b.firstChild?.textContent?.trim(),
    hiddenWidth: b.querySelector('.visually-hidden')?.getBoundingClientRect().width,
  }));
  assert.deepEqual(shown, { label: 'Sign out', hiddenWidth: 1 });
});

suite.test('the start-up check shows a pending state, the header keeps its height', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');
  await logIn(page, email);
  await waitSignedIn(page, email);
  const signedInHeight = (await page.locator('header').boundingBox())?.height;

  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/auth/refresh', async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  const pending = page.getByTestId('auth-pending');
  await pending.getByText('Checking your session…').waitFor();
  const pendingHeight = (await page.locator('header').boundingBox())?.height;
  release();
  await waitSignedIn(page, email);

  assert.ok(signedInHeight !== undefined && signedInHeight > 0);
  assert.equal(pendingHeight, signedInHeight);
  assert.equal(await pending.count(), 0);
});

suite.test('an unreachable server at start-up keeps the session and the page', async (t) => {
  t.expectFailedRequest(429, /^\/auth\/refresh$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');
  await logIn(page, email);
  await waitForPath(page, '/status');

  let refused = 0;
  await page.route('**/auth/refresh', async (route) => {
    refused += 1;
    await fulfilFailure(route, 429, 'rate_limited', { 'Retry-After': '1' });
  });
  await page.reload();
  await page.getByTestId('auth-unavailable').waitFor();
  assert.equal(new URL(page.url()).pathname, '/status', 'the guard waits: no redirect');

  await page.unroute('**/auth/refresh');
  await waitSignedIn(page, email);
  assert.equal(new URL(page.url()).pathname, '/status');
  assert.ok(refused >= 1);
});

suite.test('a logout the server did not confirm says so and stays signed in', async (t) => {
  t.expectFailedRequest(429, /^\/auth\/logout$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');
  await logIn(page, email);
  await waitSignedIn(page, email);

  await page.route('**/auth/logout', (route) => fulfilFailure(route, 429, 'rate_limited'));
  await accountNav(page).getByRole('button', { name: 'Log out' }).click();

  await page.getByRole('alert').getByText('You are still signed in').waitFor();
  await waitSignedIn(page, email);
  await page.unroute('**/auth/logout');
  await accountNav(page).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
});

suite.test('an unknown path shows a page-not-found page', async (t) => {
  const page = await t.newPage();
  await t.open(page, '/no-such-page');

  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/no-such-page');
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await waitForPath(page, '/');
});

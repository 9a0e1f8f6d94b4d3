/**
 * Signing up, in and out through the forms, the guards both ways, and the forms' failure states.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PASSWORD,
  accountNav,
  logIn,
  pathOf,
  register,
  registerViaApi,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

const suite = useSuite();

suite.test(
  'registering lands on the status page and the guards send users both ways',
  async (t) => {
    const page = await t.newPage();
    const email = uniqueEmail();

    await t.open(page, '/');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Register' }).waitFor();
    await t.screenshot(page, 'home');
    await page.getByRole('link', { name: 'Register' }).click();
    await waitForPath(page, '/register');
    await page.getByRole('heading', { level: 1, name: 'Create your account' }).waitFor();
    await t.screenshot(page, 'register');

    await register(page, email);
    await waitForPath(page, '/status');
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    assert.equal(await page.getByTestId('email').textContent(), email);
    const registered = page.getByTestId('registered-on').locator('time');
    const registeredOn = (await registered.getAttribute('datetime')) ?? '';
    assert.ok(
      Math.abs(Date.parse(registeredOn) - Date.now()) < 60_000,
      `registration date ${registeredOn} is now`,
    );
    assert.match(
      (await registered.textContent()) ?? '',
      new RegExp(String(new Date().getUTCFullYear())),
    );
    assert.equal((await page.getByTestId('admin').textContent())?.trim(), 'No');
    await waitSignedIn(page, email);
    await t.screenshot(page, 'status');

    await page.reload();
    await waitForPath(page, '/status');
    await waitSignedIn(page, email);
    assert.equal(await page.getByTestId('email').textContent(), email);

    // Signed in: the guest pages send you to /status.
    await t.open(page, '/login');
    await waitForPath(page, '/status');
    await t.open(page, '/register');
    await waitForPath(page, '/status');
    await waitSignedIn(page, email);

    // Signed out: /status sends you to /login, and logging in there brings you back.
    await accountNav(page).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, '/login');
    await accountNav(page).getByRole('button', { name: 'Log out' }).waitFor({ state: 'detached' });
    await t.open(page, '/status');
    await waitForPath(page, '/login', { query: 'returnUrl=%2Fstatus' });
    await logIn(page, email);
    await waitForPath(page, '/status');
    await waitSignedIn(page, email);

    // The same for /sessions.
    await accountNav(page).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, '/login');
    await t.open(page, '/sessions');
    await waitForPath(page, '/login', { query: 'returnUrl=%2Fsessions' });
    await logIn(page, email);
    await waitForPath(page, '/sessions');
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();

    // A plain log out and log in again.
    await accountNav(page).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, '/login');
    await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    await t.screenshot(page, 'login');
    await logIn(page, email);
    await waitForPath(page, '/status');
    await waitSignedIn(page, email);
  },
);

suite.test('a wrong password shows the server message and keeps only the email', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/login$/);
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');

  await logIn(page, email, `${PASSWORD}-wrong`);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent())?.trim(), 'Invalid email or password.');
  assert.equal(await page.getByLabel('Email').inputValue(), email);
  assert.equal(await page.getByLabel('Password').inputValue(), '');
  assert.equal(pathOf(page), '/login');
  await t.screenshot(page, 'login-error');

  // The form still works after a failure.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
});

suite.test('a field error marks its input invalid and describes it', async (t) => {
  t.expectFailedRequest(400, /^\/auth\/register$/);
  const page = await t.newPage();
  const email = uniqueEmail();
  await t.open(page, '/register');

  await register(page, email, 'short');
  const password = page.getByLabel('Password');
  await page.getByRole('alert').waitFor();
  await page.locator('#password[aria-invalid="true"]').waitFor();
  assert.equal(await password.getAttribute('aria-invalid'), 'true');
  const describedBy = (await password.getAttribute('aria-describedby')) ?? '';
  assert.notEqual(describedBy, '');
  const descriptions = await Promise.all(
    describedBy.split(/\s+/).map((id) => page.locator(`[id="${id}"]`).textContent()),
  );
  const description = descriptions.join(' ').trim();
  assert.match(description, /8/, `the password error "${description}" names the minimum`);
  assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), null);
  assert.equal(await page.getByLabel('Email').inputValue(), email);
  assert.equal(await password.inputValue(), '');
  assert.equal(pathOf(page), '/register');
});

suite.test('the submit button is disabled in flight and a double click logs in once', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(t.baseUrl, email);
  const page = await t.newPage();
  let loginRequests = 0;
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/auth/login') {
      loginRequests += 1;
    }
  });
  // Hold the answer back so "in flight" lasts long enough to look at.
  await page.route('**/auth/login', async (route) => {
    await sleep(800);
    await route.continue();
  });
  await t.open(page, '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);

  const button = page.getByRole('button', { name: 'Log in' });
  await button.dblclick();
  await page.locator('button[type="submit"][disabled][aria-busy="true"]').waitFor();
  assert.equal(await button.isDisabled(), true);
  await page.getByLabel('Password').press('Enter');
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
  assert.equal(loginRequests, 1);
});

/**
 * Two-step sign-in in a real browser: a user sets up an authenticator app from the QR code's key
 * on /account, saves the recovery codes, signs in with a code, then (the phone lost) with a
 * recovery code; a stolen password alone gets nowhere.
 */
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import {
  PASSWORD,
  accountNav,
  logIn,
  register,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

const suite = useSuite();

suite.test(
  'a user turns on two-step sign-in, signs in with a code and with a recovery code',
  async (t) => {
    const email = uniqueEmail();
    const page = await t.newPage();
    await t.open(page, '/register');
    await register(page, email);
    await waitSignedIn(page, email);
    await accountNav(page).getByRole('link', { name: 'Account' }).click();
    await page
      .getByTestId('two-step-state')
      .getByText(/is off/)
      .waitFor();

    const start = page
      .locator('form')
      .filter({ has: page.getByRole('button', { name: 'Set up authenticator app' }) });
    await start.getByLabel('Current password').fill(PASSWORD);
    await start.getByRole('button', { name: 'Set up authenticator app' }).click();
    await page
      .getByRole('img', { name: 'QR code for your authenticator app' })
      .locator('svg')
      .waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret.trim()) });
    const turnOn = page
      .locator('form')
      .filter({ has: page.getByRole('button', { name: 'Turn on' }) });
    await turnOn.getByLabel('Authentication code').fill(totp.generate());
    await turnOn.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    const recoveryCode = ((await codes.nth(3).textContent()) ?? '').trim();
    await t.screenshot(page, 'recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page
      .getByTestId('two-step-state')
      .getByText(/is on\. 10 recovery codes left/)
      .waitFor();

    // A stolen password alone: the second step, and no session behind it.
    await accountNav(page).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, '/login');
    await logIn(page, email);
    await page.getByLabel('Authentication code').waitFor();
    await t.screenshot(page, 'login-second-step');
    await t.open(page, '/status');
    await waitForPath(page, '/login');

    // With a code (the next step's: the enrolment spent the current one).
    await logIn(page, email);
    await page
      .getByLabel('Authentication code')
      .fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitForPath(page, '/status');
    await waitSignedIn(page, email);

    // The phone is lost: a recovery code gets the user in.
    await accountNav(page).getByRole('button', { name: 'Log out' }).click();
    await waitForPath(page, '/login');
    await logIn(page, email);
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await waitSignedIn(page, email);
    await t.open(page, '/account');
    await page
      .getByTestId('two-step-state')
      .getByText(/9 recovery codes left/)
      .waitFor();
  },
);

suite.test('a wrong code says so and keeps the user on the second step', async (t) => {
  const email = uniqueEmail();
  const page = await t.newPage();
  await t.open(page, '/register');
  await register(page, email);
  await waitSignedIn(page, email);
  await t.open(page, '/account');
  const start = page
    .locator('form')
    .filter({ has: page.getByRole('button', { name: 'Set up authenticator app' }) });
  await start.getByLabel('Current password').fill(PASSWORD);
  await start.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').trim();
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
  const turnOn = page
    .locator('form')
    .filter({ has: page.getByRole('button', { name: 'Turn on' }) });
  await turnOn.getByLabel('Authentication code').fill(totp.generate());
  await turnOn.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await accountNav(page).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
  await logIn(page, email);
  t.expectFailedRequest(401, /^\/auth\/login\/mfa$/);
  await page.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page
    .getByRole('alert')
    .getByText(/not valid/)
    .waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
});

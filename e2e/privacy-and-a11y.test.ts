/**
 * What scripts on the page could read (no tokens anywhere), and the accessibility floor of every
 * page: one h1, every input named.
 */
import assert from 'node:assert/strict';
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
import {
  assertHeadingAndLabels,
  assertNothingTokenLikeReadable,
  recordAccessTokens,
} from './support/page-checks.ts';

const suite = useSuite();

suite.test('the app keeps tokens out of storage and script-readable cookies', async (t) => {
  const context = await t.newContext();
  const tokens = recordAccessTokens(context);
  const page = await context.newPage();
  const email = uniqueEmail();
  await t.open(page, '/register');
  await register(page, email);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
  await assertNothingTokenLikeReadable(page, tokens, 'after register');

  // A reload signs in again through the start-up refresh (a new access token, a rotated cookie).
  const before = tokens.length;
  await page.reload();
  await waitSignedIn(page, email);
  await assertNothingTokenLikeReadable(page, tokens, 'after reload');
  assert.ok(tokens.length > before, 'the reload got a new access token');

  // A second tab signs in by its own refresh.
  const second = await context.newPage();
  await t.open(second, '/sessions');
  await waitSignedIn(second, email);
  await assertNothingTokenLikeReadable(second, tokens, 'after a refresh in another tab');
  await assertNothingTokenLikeReadable(page, tokens, 'in the first tab');
});

suite.test('every page has one h1 and every input an accessible name', async (t) => {
  t.expectFailedRequest(401, /^\/auth\/login$/);
  const page = await t.newPage();
  const email = uniqueEmail();
  for (const path of [
    '/',
    '/login',
    '/register',
    '/forgot-password',
    '/reset-password',
    '/verify-email',
    '/confirm-email',
  ]) {
    await t.open(page, path);
    await waitForPath(page, path);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await assertHeadingAndLabels(page, path);
  }

  await t.open(page, '/register');
  await register(page, email);
  await waitForPath(page, '/status');
  await page.getByTestId('email').waitFor();
  await assertHeadingAndLabels(page, '/status');
  await accountNav(page).getByRole('link', { name: 'Sessions' }).click();
  await page.getByRole('list', { name: 'Your sessions' }).getByRole('listitem').first().waitFor();
  await assertHeadingAndLabels(page, '/sessions');
  await accountNav(page).getByRole('link', { name: 'Account' }).click();
  await page.getByRole('button', { name: 'Change email' }).waitFor();
  await assertHeadingAndLabels(page, '/account');

  await accountNav(page).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
  await logIn(page, email, `${PASSWORD}-wrong`);
  await page.getByRole('alert').waitFor();
  await assertHeadingAndLabels(page, '/login with an error');
});

/**
 * The email pages in a real browser, reading the mails from a real SMTP server on loopback:
 * verification after registering (with a scanner opening the link first), a password reset end to
 * end, an email change end to end, the account page, and a mail rendered to PNG.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { freePort } from '../server/test/support/server-process.ts';
import {
  type ReceivedMail,
  startTestSmtp,
  type TestSmtp,
} from '../server/test/support/test-smtp.ts';
import {
  PASSWORD,
  logIn,
  register,
  registerViaApi,
  uniqueEmail,
  signIn,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

const NEW_PASSWORD = 'copper-heron-lantern-77';
const smtpPort = await freePort();
let smtp: TestSmtp | undefined;
// Registered before the suite's own hooks, so the mail server is up before Latchkey starts.
before(async () => {
  smtp = await startTestSmtp(smtpPort);
});
after(() => smtp?.close());

const suite = useSuite({ env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` } });

function mailTo(email: string, subject: RegExp): Promise<ReceivedMail> {
  if (smtp === undefined) throw new Error('the SMTP server is not running');
  return smtp.waitFor((mail) => mail.to === email && subject.test(mail.subject));
}

function linkOf(mail: ReceivedMail): string {
  assert.ok(mail.link, `a link in: ${mail.text}`);
  return mail.link;
}

/** The link's path (and fragment) on the app under test. */
function pathOfLink(link: string): string {
  const url = new URL(link);
  return `${url.pathname}${url.hash}`;
}

suite.test(
  'a new user verifies the address from the mail; a scanner opening the link first spends nothing',
  async (t) => {
    const email = uniqueEmail();
    const page = await t.newPage();
    await t.open(page, '/register');
    await register(page, email);
    await waitSignedIn(page, email);
    const mail = await mailTo(email, /verify your email/);
    assert.ok(linkOf(mail).startsWith(`${suite.server.baseUrl}/verify-email#token=`));

    // A link scanner: another browser loads the page (and runs its script), then leaves.
    const scanner = await t.newPage();
    await t.open(scanner, pathOfLink(linkOf(mail)));
    await scanner.getByRole('button', { name: 'Verify email' }).waitFor();
    await scanner.close();

    await t.open(page, pathOfLink(linkOf(mail)));
    await page.getByRole('button', { name: 'Verify email' }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
    await page.getByRole('button', { name: 'Verify email' }).click();
    await page.getByRole('status').getByText('Your email address is verified.').waitFor();
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await waitForPath(page, '/account');
    await page.getByTestId('verified').getByText('Verified', { exact: true }).waitFor();
  },
);

suite.test('a forgotten password is reset from the mail, and the new one signs in', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(suite.server.baseUrl, email);
  const page = await t.newPage();
  await t.open(page, '/login');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await waitForPath(page, '/forgot-password');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  const confirmation = await page.getByRole('status').textContent();
  assert.match(confirmation ?? '', /If an account exists for that address/);

  const mail = await mailTo(email, /reset your password/);
  await t.screenshot(page, 'forgot-password');
  await t.open(page, pathOfLink(linkOf(mail)));
  await waitForPath(page, '/reset-password');
  await page.getByLabel('New password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Reset password' }).click();
  await page
    .getByRole('status')
    .getByText(/Your password has been reset/)
    .waitFor();
  await t.screenshot(page, 'reset-password');
  await page.getByRole('link', { name: 'Log in' }).click();
  await waitForPath(page, '/login');
  await logIn(page, email, NEW_PASSWORD);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);

  // The mail itself, as a mail client shows its HTML part.
  const viewer = await t.newPage();
  await viewer.setViewportSize({ width: 640, height: 560 });
  await viewer.setContent(mail.html);
  await viewer.getByRole('link', { name: 'Reset password' }).waitFor();
  await t.screenshot(viewer, 'mail-reset-password');
});

suite.test(
  'an email change is confirmed from the new address and shows on the account page',
  async (t) => {
    const email = uniqueEmail();
    const newEmail = uniqueEmail();
    await registerViaApi(suite.server.baseUrl, email);
    const page = await t.newPage();
    await signIn(t, page, email);
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await waitForPath(page, '/account');
    const form = page
      .locator('form')
      .filter({ has: page.getByRole('button', { name: 'Change email' }) });
    await form.getByLabel('New email').fill(newEmail);
    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Change email' }).click();
    await form
      .getByRole('status')
      .getByText(/confirmation link is on its way/)
      .waitFor();
    assert.equal(await page.getByTestId('account-email').textContent(), email);

    const notice = await mailTo(email, /change of your email address/);
    assert.ok(notice.text.includes(newEmail));
    const mail = await mailTo(newEmail, /confirm your new email/);
    await t.open(page, pathOfLink(linkOf(mail)));
    await page.getByRole('button', { name: 'Confirm email' }).click();
    await page.getByRole('status').getByText('Your email address has been changed.').waitFor();
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await page.getByTestId('account-email').getByText(newEmail).waitFor();
    await page.getByTestId('verified').getByText('Verified', { exact: true }).waitFor();
    await waitSignedIn(page, newEmail);
    await t.screenshot(page, 'account');
  },
);

suite.test('the account page resends the verification mail and changes the password', async (t) => {
  const email = uniqueEmail();
  const page = await t.newPage();
  await t.open(page, '/register');
  await register(page, email);
  await waitSignedIn(page, email);
  await mailTo(email, /verify your email/);
  await t.open(page, '/account');
  await page.getByTestId('verified').getByText('Not verified').waitFor();
  await page.getByRole('button', { name: 'Resend verification email' }).click();
  await page
    .getByRole('status')
    .getByText(/verification link is on its way/)
    .waitFor();
  await eventuallyMails(email, 2);

  const form = page.locator('form').filter({
    has: page.getByRole('button', { name: 'Change password' }),
  });
  await form.getByLabel('Current password').fill('not my password at all');
  await form.getByLabel('New password').fill(NEW_PASSWORD);
  t.expectFailedRequest(401, /^\/auth\/password$/);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByRole('alert').getByText('Invalid email or password.').waitFor();
  assert.equal(await form.getByLabel('Current password').inputValue(), '');
  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByLabel('New password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form
    .getByRole('status')
    .getByText(/Password changed/)
    .waitFor();
});

async function eventuallyMails(email: string, count: number): Promise<void> {
  if (smtp === undefined) throw new Error('the SMTP server is not running');
  const server = smtp;
  await server.waitFor(() => server.mails.filter((m) => m.to === email).length >= count);
}

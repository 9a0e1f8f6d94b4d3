/**
 * The admin page in a real browser: the first admin comes from the CLI (password on stdin), an
 * admin finds a user who is signed in in another browser and disables them, and that browser is
 * signed out; deleting asks to confirm; the audit log shows what happened. Non-admins are sent
 * away from /admin.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  PASSWORD,
  accountNav,
  logIn,
  registerViaApi,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';

const CLI = new URL('../server/src/cli.ts', import.meta.url).pathname;
const suite = useSuite();

/** `npm run latchkey -- create-admin --email E`, with the password on stdin. */
function createAdmin(email: string): void {
  const run = spawnSync(process.execPath, [CLI, 'create-admin', '--email', email], {
    env: { PATH: process.env['PATH'] ?? '', DATA_DIR: suite.dataDir, LOG_LEVEL: 'silent' },
    input: `${PASSWORD}\n`,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stderr);
}

suite.test(
  'an admin disables a user who is signed in elsewhere, and that browser is signed out',
  async (t) => {
    const adminEmail = uniqueEmail();
    const victim = uniqueEmail();
    createAdmin(adminEmail);
    await registerViaApi(suite.server.baseUrl, victim);

    const victimPage = await t.newPage();
    await t.open(victimPage, '/login');
    await logIn(victimPage, victim);
    await waitForPath(victimPage, '/status');
    await waitSignedIn(victimPage, victim);

    const page = await t.newPage();
    await t.open(page, '/login');
    await logIn(page, adminEmail);
    await waitSignedIn(page, adminEmail);
    await accountNav(page).getByRole('link', { name: 'Admin' }).click();
    await waitForPath(page, '/admin');
    await page.getByLabel('Search').fill(victim);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const accounts = page.getByRole('list', { name: 'Accounts' }).getByRole('listitem');
    await accounts.filter({ hasText: victim }).waitFor();
    assert.equal(await accounts.count(), 1);
    await page.getByRole('button', { name: `Disable ${victim}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'The account is disabled' })
      .waitFor({ state: 'attached' });
    await accounts.filter({ hasText: 'Disabled' }).waitFor();
    await t.screenshot(page, 'admin');

    // The victim's next request finds the session ended; the app signs them out.
    t.expectFailedRequest(401, /^\/auth\/sessions$/);
    t.expectFailedRequest(401, /^\/auth\/refresh$/);
    await accountNav(victimPage).getByRole('link', { name: 'Sessions' }).click();
    await waitForPath(victimPage, '/login', { timeoutMs: 10_000 });
    await victimPage.getByRole('button', { name: 'Log in' }).waitFor();
    t.expectFailedRequest(403, /^\/auth\/login$/);
    await logIn(victimPage, victim);
    await victimPage
      .getByRole('alert')
      .getByText(/disabled/)
      .waitFor();

    // The audit log shows it, filtered by type.
    await page.getByLabel('Event type').selectOption('account_disabled');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page
      .getByRole('list', { name: 'Audit log' })
      .getByText('Account disabled')
      .first()
      .waitFor();

    // Delete asks to confirm first.
    await page.getByRole('button', { name: `Delete ${victim}` }).click();
    await page.getByRole('group', { name: `Delete ${victim}?` }).waitFor();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await page.getByRole('list', { name: 'Accounts' }).getByText('No accounts match.').waitFor();
  },
);

suite.test(
  'a user who is not an admin is sent from /admin to /status, and sees no Admin link',
  async (t) => {
    const email = uniqueEmail();
    await registerViaApi(suite.server.baseUrl, email);
    const page = await t.newPage();
    await t.open(page, '/login');
    await logIn(page, email);
    await waitSignedIn(page, email);
    assert.equal(await accountNav(page).getByRole('link', { name: 'Admin' }).count(), 0);
    // A reload on /admin: the server serves the app there (with the app's headers).
    await t.open(page, '/admin');
    await waitForPath(page, '/status');
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page
      .getByRole('list', { name: 'Security activity' })
      .getByText('Signed in')
      .first()
      .waitFor();
  },
);

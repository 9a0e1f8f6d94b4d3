/**
 * The example app (examples/angular-app: `ng new` plus the README's steps, the library installed
 * from dist/latchkey-angular.tgz) under `ng serve`, its proxy.conf.json sending /auth to a
 * Latchkey server on its default settings (SameSite=Strict, no CORS_ORIGINS): what a new user
 * runs. The "example app" step of npm test packages, installs and builds it first.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort } from '../../server/test/support/server-process.ts';
import {
  PASSWORD,
  registerViaApi,
  uniqueEmail,
  useSuite,
  waitForPath,
} from '../support/browser.ts';
import { type DevServer, startDevServer } from '../support/dev-server.ts';

const APP_DIR = join(new URL('../../', import.meta.url).pathname, 'examples/angular-app');
const appPort = await freePort();
let devServer: DevServer | undefined;

const suite = useSuite({
  appUrl: () => `http://127.0.0.1:${appPort}`,
  setUp: async (apiPort) => {
    devServer = await startDevServer(APP_DIR, appPort, `http://127.0.0.1:${apiPort}`);
    return devServer.stop;
  },
});

suite.test('the example app signs in, survives a reload, guards a page and logs out', async (t) => {
  const email = uniqueEmail();
  await registerViaApi(suite.server.baseUrl, email);
  const page = await t.newPage();

  // The guarded page sends a signed-out visitor to the login page, remembering where to return.
  await t.open(page, '/account');
  await waitForPath(page, '/login', { query: 'returnUrl=%2Faccount' });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await waitForPath(page, '/account');
  await page.getByTestId('account-email').getByText(email, { exact: true }).waitFor();

  // A reload keeps the session: the refresh cookie came through the proxy, first-party.
  await page.reload();
  await page.getByTestId('account-email').getByText(email, { exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/account');

  // Signed in, the login page sends the user to homePath.
  await t.open(page, '/login');
  await waitForPath(page, '/account');

  await page.getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
  await page.getByRole('link', { name: 'Log in' }).waitFor();

  // Logged out for real: a reload of the guarded page goes to the login page again.
  await t.open(page, '/account');
  await waitForPath(page, '/login', { query: 'returnUrl=%2Faccount' });
  const cookies = await page.context().cookies();
  assert.deepEqual(
    cookies.filter((c) => c.name === 'latchkey_refresh').map((c) => c.value),
    [],
    'the refresh cookie is cleared',
  );
  assert.ok(devServer?.output().includes('Local:'), 'ng serve ran');
});

/**
 * The same build served from another origin than the API: the app at http://localhost:<appPort>
 * (a tiny static server whose latchkey.json points at the API), the API at
 * http://localhost:<apiPort> with CORS_ORIGINS listing the app, and the cookie at its default
 * SameSite=Strict: SameSite is about sites, not origins, so None is not needed (and would let
 * other sites' requests carry the cookie).
 * Chromium treats http://localhost as a secure context, so it keeps the `Secure` cookie.
 *
 * Why not the API at http://127.0.0.1:<apiPort>: localhost and 127.0.0.1 are different *sites*,
 * which makes the refresh cookie a third-party cookie. Playwright's browser contexts are
 * off-the-record profiles, and Chromium blocks third-party cookies there by default (DevTools
 * reports the Set-Cookie as blocked for "UserPreferences"), just as incognito windows, Safari
 * and Firefox's partitioning do. Registering still works then, but the cookie is never stored,
 * so a reload signs the user out. Ports do not make a site, so two ports of localhost are
 * different origins (CORS, `Origin` checks) but the same site, and the cookie flows. Deploy the
 * app and the API on one site (app.example.com and auth.example.com), not merely on one origin.
 */
import assert from 'node:assert/strict';
import { freePort } from '../server/test/support/server-process.ts';
import {
  WEB_DIR,
  accountNav,
  logIn,
  register,
  uniqueEmail,
  useSuite,
  waitForPath,
  waitSignedIn,
} from './support/browser.ts';
import { startStaticServer } from './support/static-server.ts';

const appPort = await freePort();
const appOrigin = `http://localhost:${appPort}`;
const apiOrigin = (apiPort: number) => `http://localhost:${apiPort}`;

const suite = useSuite({
  env: { CORS_ORIGINS: appOrigin },
  appUrl: () => appOrigin,
  setUp: async (apiPort) => {
    const app = await startStaticServer(WEB_DIR, appPort, apiOrigin(apiPort));
    return app.close;
  },
});

suite.test('the app works from another origin than the API', async (t) => {
  const api = apiOrigin(suite.server.port);
  const context = await t.newContext();
  const page = await context.newPage();
  const apiCalls: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/auth/')) apiCalls.push(`${url.origin}${url.pathname}`);
  });
  const email = uniqueEmail();

  await t.open(page, '/register');
  await register(page, email);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
  assert.equal(new URL(page.url()).origin, appOrigin);
  assert.ok(apiCalls.includes(`${api}/auth/register`), 'registered with the API origin');
  assert.ok(
    apiCalls.every((call) => call.startsWith(`${api}/`)),
    `every API call went to the API origin: ${apiCalls.join(', ')}`,
  );
  const [cookie] = (await context.cookies(`${api}/auth/refresh`)).filter(
    (c) => c.name === 'latchkey_refresh',
  );
  assert.ok(cookie !== undefined, 'the refresh cookie is kept for the API origin');
  // The default SameSite=Strict: the two origins are one site, so the cookie is first-party.
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.secure, true);
  assert.equal(cookie.httpOnly, true);

  // The start-up refresh sends the cookie cross-origin (same site): a reload stays signed in.
  await page.reload();
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
  assert.equal(await page.getByTestId('email').textContent(), email);

  await accountNav(page).getByRole('link', { name: 'Sessions' }).click();
  await waitForPath(page, '/sessions');
  await page.getByRole('list', { name: 'Your sessions' }).getByRole('listitem').first().waitFor();

  await accountNav(page).getByRole('button', { name: 'Log out' }).click();
  await waitForPath(page, '/login');
  const afterLogout = await context.cookies(`${api}/auth/refresh`);
  assert.equal(afterLogout.filter((c) => c.name === 'latchkey_refresh').length, 0);
  await t.open(page, '/status');
  await waitForPath(page, '/login', { query: 'returnUrl=%2Fstatus' });
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();

  await logIn(page, email);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
});

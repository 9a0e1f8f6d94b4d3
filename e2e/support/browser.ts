/**
 * Browser test harness: per suite (test file) one real Latchkey server process on a free port
 * with a fresh DATA_DIR, and one Chromium (find-chromium.ts: CHROMIUM_PATH, else the one on PATH)
 * with a fresh profile of its own, so that suites share nothing and may run side by side; per
 * test fresh browser contexts that fail the test on any page error, any console error, or any 5xx
 * answer. Chromium's own "Failed to load resource: the server responded with a status of 4xx"
 * lines are accepted only for requests the test says are expected to fail (a signed-out start-up
 * refresh answers 401 by design, always accepted). Every wait is bounded; the server is killed by
 * PID and the browser closed, also on failure.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
  chromium,
} from 'playwright-core';
import {
  type ServerProcess,
  freePort,
  killAll,
  startServer,
  tempDataDir,
} from '../../server/test/support/server-process.ts';
import { findChromium } from './find-chromium.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
export const WEB_DIR = join(ROOT, 'web/dist/web/browser');
const SCREENSHOT_DIR = process.env['LATCHKEY_SCREENSHOT_DIR'] ?? join(ROOT, '.ci-out/screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Longest any single browser action or wait may take. */
export const ACTION_TIMEOUT_MS = 5_000;
const TEST_TIMEOUT_MS = 40_000;

/** A password the server accepts (long, not a common one). */
export const PASSWORD = 'violet-otter-harbour-42';

let emailCounter = 0;
/** A fresh, unique email address. */
export function uniqueEmail(): string {
  emailCounter += 1;
  return `user-${process.pid}-${Date.now()}-${emailCounter}@example.com`;
}

interface ExpectedFailure {
  status: number;
  path: RegExp;
}

/** One test's view of the suite: its contexts, pages, and the failures it expects. */
export class BrowserTest {
  readonly baseUrl: string;
  readonly #browser: Browser;
  readonly #contexts: BrowserContext[] = [];
  readonly #problems: string[] = [];
  readonly #expected: ExpectedFailure[] = [
    // The start-up refresh of a signed-out page answers 401 invalid_refresh_token by design.
    { status: 401, path: /^\/auth\/refresh$/ },
  ];

  constructor(browser: Browser, baseUrl: string) {
    this.#browser = browser;
    this.baseUrl = baseUrl;
  }

  /** Accepts Chromium's "Failed to load resource" console line for `status` on `path`. */
  expectFailedRequest(status: number, path: RegExp): void {
    this.#expected.push({ status, path });
  }

  /** A fresh browser context (its own cookies and storage), watched for errors. */
  async newContext(): Promise<BrowserContext> {
    const context = await this.#browser.newContext();
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    this.#contexts.push(context);
    const label = `context ${this.#contexts.length}`;
    context.on('page', (page) => {
      page.on('pageerror', (error) => this.#problems.push(`${label}: page error: ${error.stack}`));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        if (this.#isExpected(message.text(), message.location().url)) return;
        this.#problems.push(
          `${label}: console error on ${page.url()}: ${message.text()} (${message.location().url})`,
        );
      });
      page.on('response', (response) => {
        if (response.status() >= 500) {
          this.#problems.push(`${label}: ${response.status()} from ${response.url()}`);
        }
      });
    });
    return context;
  }

  /** A new page (tab) in `context`, or in a fresh context. */
  async newPage(context?: BrowserContext): Promise<Page> {
    return (context ?? (await this.newContext())).newPage();
  }

  /** Brings `page` to the front and opens `path` of the app in it. */
  async open(page: Page, path: string): Promise<void> {
    await focus(page);
    await page.goto(new URL(path, this.baseUrl).href);
  }

  /** Saves a full-page screenshot as `<name>.png` in the screenshot directory. */
  async screenshot(page: Page, name: string): Promise<void> {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  }

  /** Closes every context; throws when anything unexpected was seen. */
  async finish(): Promise<void> {
    await Promise.all(this.#contexts.map((context) => context.close().catch(() => undefined)));
    if (this.#problems.length > 0) {
      throw new Error(`unexpected browser errors:\n${this.#problems.join('\n')}`);
    }
  }

  #isExpected(text: string, url: string): boolean {
    const match = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(
      text,
    );
    if (match === null) return false;
    const status = Number(match[1]);
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      return false;
    }
    return this.#expected.some((e) => e.status === status && e.path.test(path));
  }
}

export interface Suite {
  /** The API server (and, unless the suite serves the app elsewhere, the app). */
  readonly server: ServerProcess;
  readonly browser: Browser;
  /** Where the tests open the app. */
  readonly appUrl: string;
  /** The server's DATA_DIR (its SQLite database), for the operator CLI. */
  readonly dataDir: string;
  /** Declares a test that gets a {@link BrowserTest}; it fails on unexpected browser errors. */
  test(name: string, body: (t: BrowserTest) => Promise<void>): void;
}

export interface SuiteOptions {
  /** Extra server environment (ACCESS_TOKEN_TTL, CORS_ORIGINS…). */
  env?: Record<string, string>;
  /** Where the app is opened; the server's own origin by default. */
  appUrl?: (apiPort: number) => string;
  /** Runs after the server started (e.g. a second static server); returns its clean-up. */
  setUp?: (apiPort: number) => Promise<() => Promise<void>>;
}

/**
 * Registers `before`/`after` hooks that start a server process and Chromium for this file,
 * and returns the suite, whose fields are usable inside tests.
 */
export function useSuite(options: SuiteOptions = {}): Suite {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let appUrl: string | undefined;
  let removeData: (() => void) | undefined;
  let dataDir: string | undefined;
  let tearDown: (() => Promise<void>) | undefined;

  before(async () => {
    // First, so that a machine without Chromium fails at once, saying what to install.
    const executablePath = findChromium();
    const port = await freePort();
    const data = tempDataDir();
    removeData = data.remove;
    dataDir = data.dir;
    server = await startServer({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: data.dir,
      WEB_DIR,
      RATE_LIMIT_PER_IP: '0',
      LOG_LEVEL: 'warn',
      ...options.env,
    });
    // If the runner exits without reaching `after` (an uncaught error), still end the server.
    const { child } = server;
    process.once('exit', () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    tearDown = await options.setUp?.(port);
    appUrl = options.appUrl?.(port) ?? server.baseUrl;
    browser = await chromium.launch({
      executablePath,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 15_000,
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await tearDown?.().catch(() => undefined);
    await server?.stop('SIGTERM', 5_000).catch(() => undefined);
    await killAll();
    removeData?.();
  });

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running (the suite failed to start)`);
    return value;
  };

  return {
    get server() {
      return need(server, 'the server');
    },
    get browser() {
      return need(browser, 'the browser');
    },
    get appUrl() {
      return need(appUrl, 'the app');
    },
    get dataDir() {
      return need(dataDir, 'the data directory');
    },
    test(name, body) {
      test(name, { timeout: TEST_TIMEOUT_MS }, async () => {
        const t = new BrowserTest(need(browser, 'the browser'), need(appUrl, 'the app'));
        let failed = false;
        try {
          await body(t);
        } catch (error) {
          failed = true;
          throw error;
        } finally {
          // On success, a stray console error still fails the test; on failure, the first error
          // is the one worth reading.
          const finishing = t.finish();
          if (failed) await finishing.catch(() => undefined);
          else await finishing;
        }
      });
    },
  };
}

/**
 * Brings `page` to the front, as a user does by switching to a tab before using it. Background
 * tabs get no animation frames, so Playwright's stability checks would crawl there.
 */
export async function focus(page: Page): Promise<void> {
  await page.bringToFront();
}

/** Polls `check` every 50 ms until it returns true; throws after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = ACTION_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** The path of `page` (no query). */
export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

/** Waits until `page` shows `path` (and `query`, when given, e.g. `returnUrl=%2Fstatus`). */
export async function waitForPath(
  page: Page,
  path: string,
  options: { query?: string; timeoutMs?: number } = {},
): Promise<void> {
  await eventually(
    () => {
      const url = new URL(page.url());
      return (
        url.pathname === path && (options.query === undefined || url.search === `?${options.query}`)
      );
    },
    `expected ${path}${options.query === undefined ? '' : `?${options.query}`}, at ${page.url()}`,
    options.timeoutMs,
  );
}

/**
 * Registers an account through the API (faster than the form when the form is not the subject),
 * then logs that session out so it does not show on the sessions page.
 */
export async function registerViaApi(apiUrl: string, email: string): Promise<void> {
  const registered = await fetch(new URL('/auth/register', apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
    signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
  });
  if (registered.status !== 201) {
    throw new Error(`register answered ${registered.status}: ${await registered.text()}`);
  }
  const { auth_token: token } = (await registered.json()) as { auth_token: string };
  const loggedOut = await fetch(new URL('/auth/logout', apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: '{}',
    signal: AbortSignal.timeout(ACTION_TIMEOUT_MS),
  });
  if (loggedOut.status !== 200) {
    throw new Error(`logout answered ${loggedOut.status}: ${await loggedOut.text()}`);
  }
}

/** Fills and submits the login form on the current page. */
export async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Fills and submits the register form on the current page. */
export async function register(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Register' }).click();
}

/** The header's account navigation (present only while signed in). */
export function accountNav(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Account' });
}

/** Opens /login in `page`, logs in as `email` and waits for the status page. */
export async function signIn(
  t: { open(page: Page, path: string): Promise<void> },
  page: Page,
  email: string,
): Promise<void> {
  await t.open(page, '/login');
  await logIn(page, email);
  await waitForPath(page, '/status');
  await waitSignedIn(page, email);
}

/** Waits until the header shows `email`, a Sessions link and a Log out button. */
export async function waitSignedIn(page: Page, email: string): Promise<void> {
  const nav = accountNav(page);
  await nav.getByText(email, { exact: true }).waitFor();
  await nav.getByRole('link', { name: 'Sessions', exact: true }).waitFor();
  await nav.getByRole('button', { name: 'Log out', exact: true }).waitFor();
}

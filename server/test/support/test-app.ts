import type { SessionData } from '@latchkey/contract';
import type { FastifyInstance, FastifyServerOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Clock } from '../../src/services/clock.ts';
import type { Services } from '../../src/services/create-services.ts';
import { createPasswordHasher, type PasswordHasher } from '../../src/services/password-hasher.ts';
import type { Store } from '../../src/store/store.ts';
import { openTestStore } from './test-database.ts';

export { createTestDatabase, openTestStore, testEngine } from './test-database.ts';

/** A clock tests move by hand: no sleeping. Starts at a fixed, realistic time. */
export interface TestClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function createTestClock(start = Date.parse('2026-06-01T12:00:00Z')): TestClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => void (now += ms),
    set: (ms) => void (now = ms),
  };
}

export interface TestApp {
  app: FastifyInstance;
  /** The app's services: tests run background work by hand (`revocations.poll()`, …). */
  services: Services;
  store: Store;
  clock: TestClock;
  config: Readonly<Config>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables, as an operator would set them. */
  env?: Record<string, string>;
  /** Reuse a store (restart tests, several instances); otherwise a fresh database (openTestStore). */
  store?: Store;
  clock?: TestClock;
  /** Keep the store open on close (the caller owns it). */
  keepStore?: boolean;
  /**
   * `real`: argon2id with the configured parameters (the OWASP floor by default), as the server
   * runs. Default `fast`: argon2id at its smallest cost, so suites about everything but hashing
   * do not spend most of their time hashing. password-hashing.test.ts keeps the real one.
   */
  hasher?: 'fast' | 'real';
  /** Fastify's logger option (default: no logging), for tests about what the server logs. */
  logger?: FastifyServerOptions['logger'];
}

/**
 * argon2id through the same code as the server, at a cost about 200 times lower (64 KiB, one
 * pass): the same PHC strings, verification and dummy-hash path, in about 0.1 ms. Tests only: the
 * configuration refuses anything below the OWASP floor.
 */
export const fastTestHasher: PasswordHasher = createPasswordHasher(
  { memoryKib: 64, iterations: 1, parallelism: 1 },
  2,
);

/**
 * No web app unless a test asks for one (WEB_DIR): whether web/dist happens to be built on this
 * machine must not change what the API tests see.
 */
const NO_WEB_APP = new URL('./no-web-app/', import.meta.url).pathname;

/** The real app on a real database, driven through `app.inject()`. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ RATE_LIMIT_PER_IP: '0', WEB_DIR: NO_WEB_APP, ...options.env });
  const store = options.store ?? (await openTestStore());
  const clock = options.clock ?? createTestClock();
  const hasher = options.hasher === 'real' ? undefined : fastTestHasher;
  const { app, services } = await buildApp({
    config,
    store,
    clock,
    hasher,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  await app.ready();
  return {
    app,
    services,
    store,
    clock,
    config,
    async close() {
      await app.close();
      if (!options.keepStore && options.store === undefined) await store.close();
    },
  };
}

/** Any answer's body, loosely typed: tests assert on it field by field. */
export type AnyBody = Record<string, unknown> & {
  status: string;
  code?: string;
  message?: string;
  fields?: Record<string, string>;
  auth_token?: string;
  data?: unknown;
};

export const json = (res: LightMyRequestResponse): AnyBody => res.json();

/** The value of the refresh cookie a response set ('' when it was cleared, undefined when not set). */
export function refreshCookieOf(res: LightMyRequestResponse): string | undefined {
  const cookie = res.cookies.find((c) => c.name === 'latchkey_refresh');
  return cookie?.value;
}

/** The raw Set-Cookie header for the refresh cookie. */
export function refreshSetCookieHeader(res: LightMyRequestResponse): string | undefined {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return all.find((h) => h.startsWith('latchkey_refresh='));
}

let counter = 0;
/** A unique, valid email for a test. */
export const uniqueEmail = (prefix = 'user'): string =>
  `${prefix}.${process.pid}.${++counter}@example.com`;
export const GOOD_PASSWORD = 'correct horse battery staple';

export interface SignedIn {
  email: string;
  password: string;
  token: string;
  refresh: string;
}

/** Registers a new user through the API and returns its tokens. */
export async function registerUser(
  app: FastifyInstance,
  email = uniqueEmail(),
  password = GOOD_PASSWORD,
): Promise<SignedIn> {
  const res = await app.inject({
    method: 'POST',
    url: '/auth/register',
    payload: { email, password },
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const refresh = refreshCookieOf(res);
  if (refresh === undefined) throw new Error('register set no refresh cookie');
  return { email, password, token: json(res).auth_token as string, refresh };
}

/** Logs in through the API and returns the new session's tokens. */
export async function logIn(
  app: FastifyInstance,
  email: string,
  password = GOOD_PASSWORD,
): Promise<SignedIn> {
  const res = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const refresh = refreshCookieOf(res);
  if (refresh === undefined) throw new Error('login set no refresh cookie');
  return { email, password, token: json(res).auth_token as string, refresh };
}

export const bearer = (token: string): { authorization: string } => ({
  authorization: `Bearer ${token}`,
});

/** POST /auth/refresh as a same-origin browser would send it. */
export function refreshWith(
  app: FastifyInstance,
  refresh: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    cookies: { latchkey_refresh: refresh },
    payload: '{}',
  });
}

export function status(app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url: '/auth/status', headers: bearer(token) });
}

/** The claims of a JWT, read without verifying it (tests compare `sub` and `sid` with the API). */
export function jwtClaims(token: string): Record<string, unknown> & { sub?: string; sid?: string } {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${token}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * A Set-Cookie header as a map: `name` and `value` of the cookie, then each attribute by its
 * lower-cased name ('' for flags such as HttpOnly).
 */
export function setCookieAttributes(header: string): Map<string, string> {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  const result = new Map([
    ['name', pair.slice(0, eq)],
    ['value', pair.slice(eq + 1)],
  ]);
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    if (at === -1) result.set(attribute.toLowerCase(), '');
    else result.set(attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1));
  }
  return result;
}

/** POST /auth/logout with the refresh cookie alone, as a same-origin browser would send it. */
export function logoutWithCookie(
  app: FastifyInstance,
  refresh: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/auth/logout',
    headers: { 'content-type': 'application/json' },
    cookies: { latchkey_refresh: refresh },
    payload: '{}',
  });
}

/** POST /auth/logout with the bearer token alone. */
export function logoutWithBearer(
  app: FastifyInstance,
  token: string,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(token) });
}

/** GET /auth/sessions with a bearer token; throws unless it answers 200. */
export async function listSessions(app: FastifyInstance, token: string): Promise<SessionData[]> {
  const res = await app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(token) });
  if (res.statusCode !== 200) {
    throw new Error(`GET /auth/sessions failed: ${res.statusCode} ${res.body}`);
  }
  return json(res).data as SessionData[];
}

/**
 * "Revocation is immediate on every instance" (v2 contract), black-box: real server processes
 * sharing one database (two processes on one SQLite DATA_DIR, or one PostgreSQL database), as
 * production runs them. Each revoking action is answered by one instance, and the very next
 * request to every instance must be refused: nothing here waits or polls after the answer.
 *
 * `npm test` runs this file on SQLite and again on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { freePort, killAll, type ServerProcess, startServer } from './support/server-process.ts';
import { createTestDatabase, type TestDatabase, testEngine } from './support/test-database.ts';

after(() => killAll());

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'purple elephant mountain river';
const GRACE_SECONDS = 1;

interface Instance {
  name: string;
  server: ServerProcess;
  url: string;
}

interface Client {
  email: string;
  token: string;
  refresh: string;
}

const jsonHeaders = { 'content-type': 'application/json' };

async function call(
  instance: Instance,
  method: string,
  path: string,
  init: { token?: string; refresh?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown>; refresh: string | undefined }> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
  if (init.refresh !== undefined) headers['cookie'] = `latchkey_refresh=${init.refresh}`;
  if (init.body !== undefined) Object.assign(headers, jsonHeaders);
  const res = await fetch(`${instance.url}${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('latchkey_refresh='))
    ?.split(';')[0]
    ?.slice('latchkey_refresh='.length);
  return {
    status: res.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    refresh: cookie === '' ? undefined : cookie,
  };
}

let serial = 0;
async function register(instance: Instance): Promise<Client> {
  const email = `revoke-${process.pid}-${++serial}@example.com`;
  const res = await call(instance, 'POST', '/auth/register', {
    body: { email, password: PASSWORD },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.ok(res.refresh !== undefined);
  return { email, token: String(res.body['auth_token']), refresh: res.refresh };
}

async function logIn(instance: Instance, email: string): Promise<Client> {
  const res = await call(instance, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.ok(res.refresh !== undefined);
  return { email, token: String(res.body['auth_token']), refresh: res.refresh };
}

const sessionIdOf = (token: string) =>
  String(
    (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sid: string })
      .sid,
  );

/** Every instance accepts the token now (each has verified it once, so it checks from memory). */
async function assertAcceptedEverywhere(instances: Instance[], token: string): Promise<void> {
  for (const instance of instances) {
    const res = await call(instance, 'GET', '/auth/status', { token });
    assert.equal(res.status, 200, `${instance.name} before: ${JSON.stringify(res.body)}`);
  }
}

/** The next request to every instance, in parallel, right after the answer: all refuse. */
async function assertRevokedEverywhere(instances: Instance[], token: string, what: string) {
  const answers = await Promise.all(
    instances.map((instance) => call(instance, 'GET', '/auth/status', { token })),
  );
  answers.forEach((res, i) => {
    assert.equal(res.status, 401, `${what}: ${instances[i]?.name} answered ${res.status}`);
    assert.equal(res.body['code'], 'token_revoked', `${what}: ${instances[i]?.name}`);
  });
}

for (const count of [2, 3]) {
  describe(`revocation on ${count} instances (${testEngine})`, { timeout: 120_000 }, () => {
    let database: TestDatabase;
    let instances: Instance[];
    const logoutMs: number[] = [];

    before(async () => {
      database = await createTestDatabase();
      instances = [];
      // One at a time: the first creates the database and its signing key.
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const server = await startServer({
          ...database.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          // One issuer for all, as behind a load balancer (each would default to its own URL).
          JWT_ISSUER: 'https://auth.example.com',
          RATE_LIMIT_PER_IP: '0',
          REFRESH_REUSE_GRACE: String(GRACE_SECONDS),
        });
        instances.push({ name: `instance ${'ABC'[i]}`, server, url: server.baseUrl });
      }
    });

    after(async () => {
      await Promise.all(instances.map((i) => i.server.stop()));
      await database.remove();
      if (logoutMs.length > 0) {
        const sorted = logoutMs.sort((a, b) => a - b);
        console.log(
          `# logout on ${count} ${testEngine} instances: median ${sorted[sorted.length >> 1]?.toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`,
        );
      }
    });

    test('a logout on any instance is refused by every instance on the next request', async () => {
      for (const revoker of instances) {
        const user = await register(instances[0] as Instance);
        await assertAcceptedEverywhere(instances, user.token);
        const startedAt = performance.now();
        const res = await call(revoker, 'POST', '/auth/logout', { token: user.token });
        logoutMs.push(performance.now() - startedAt);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await assertRevokedEverywhere(instances, user.token, `logout on ${revoker.name}`);
        const refresh = await call(instances.at(-1) as Instance, 'POST', '/auth/refresh', {
          refresh: user.refresh,
          body: {},
        });
        assert.equal(refresh.body['code'], 'invalid_refresh_token');
      }
    });

    test('ending one session, and ending the others, is refused everywhere at once', async () => {
      const [first, second] = instances as [Instance, Instance];
      const laptop = await register(first);
      const phone = await logIn(second, laptop.email);
      const tablet = await logIn(first, laptop.email);
      await assertAcceptedEverywhere(instances, phone.token);
      await assertAcceptedEverywhere(instances, tablet.token);

      const ended = await call(second, 'DELETE', `/auth/sessions/${sessionIdOf(phone.token)}`, {
        token: laptop.token,
      });
      assert.equal(ended.status, 200, JSON.stringify(ended.body));
      await assertRevokedEverywhere(instances, phone.token, 'DELETE /auth/sessions/:id');

      const others = await call(instances.at(-1) as Instance, 'DELETE', '/auth/sessions', {
        token: laptop.token,
      });
      assert.equal(others.status, 200, JSON.stringify(others.body));
      await assertRevokedEverywhere(instances, tablet.token, 'DELETE /auth/sessions');
      await assertAcceptedEverywhere(instances, laptop.token);
    });

    test('a password change is refused everywhere at once for the other sessions', async () => {
      const [first, second] = instances as [Instance, Instance];
      const current = await register(first);
      const elsewhere = await logIn(first, current.email);
      await assertAcceptedEverywhere(instances, elsewhere.token);
      const res = await call(second, 'POST', '/auth/password', {
        token: current.token,
        body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertRevokedEverywhere(instances, elsewhere.token, 'password change');
      await assertAcceptedEverywhere(instances, current.token);
    });

    test('refresh-token reuse ends the session everywhere at once', async () => {
      const [first, second] = instances as [Instance, Instance];
      const user = await register(first);
      const rotated = await call(first, 'POST', '/auth/refresh', {
        refresh: user.refresh,
        body: {},
      });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const latest = String(rotated.body['auth_token']);
      await assertAcceptedEverywhere(instances, latest);
      await sleep(GRACE_SECONDS * 1000 + 200);
      const reuse = await call(second, 'POST', '/auth/refresh', {
        refresh: user.refresh,
        body: {},
      });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.body['code'], 'invalid_refresh_token');
      await assertRevokedEverywhere(instances, latest, 'refresh-token reuse');
    });
  });
}

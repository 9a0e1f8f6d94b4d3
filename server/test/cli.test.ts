/**
 * The operator CLI (`npm run latchkey -- <command>`) as an operator runs it: a real process on
 * the test database (SQLite, and PostgreSQL in the PostgreSQL step), each command's success line
 * and its clear failure, including an unreachable database.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { freePort, withTimeout } from './support/server-process.ts';
import {
  createTestApp,
  createTestDatabase,
  GOOD_PASSWORD,
  json,
  jwtClaims,
  logIn,
  registerUser,
  status,
  type TestApp,
  testEngine,
  uniqueEmail,
} from './support/test-app.ts';
import type { TestDatabase } from './support/test-database.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function latchkey(args: string[], env: Record<string, string>, stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin ?? '');
  const exited = new Promise<Run>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return withTimeout(exited, 30_000, `latchkey ${args.join(' ')} did not finish`).finally(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGKILL');
    }
  });
}

let database: TestDatabase;
let t: TestApp;
before(async () => {
  database = await createTestDatabase();
  t = await createTestApp({ store: await database.open() });
});
after(async () => {
  await t.close();
  await t.store.close();
  await database.remove();
});

describe(`the operator CLI (${testEngine})`, () => {
  test('create-admin reads the password from stdin, never argv; the admin can sign in and use /admin', async () => {
    const email = uniqueEmail('root');
    const run = await latchkey(
      ['create-admin', '--email', email],
      database.env,
      `${GOOD_PASSWORD}\n`,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^Admin ${email.replaceAll('.', '\\.')} created \\(id [0-9a-f-]{36}\\)\\.\\n$`),
    );
    assert.ok(!run.stdout.includes(GOOD_PASSWORD) && !run.stderr.includes(GOOD_PASSWORD));
    const admin = await logIn(t.app, email);
    const users = await t.app.inject({
      method: 'GET',
      url: '/admin/users',
      headers: { authorization: `Bearer ${admin.token}` },
    });
    assert.equal(users.statusCode, 200, users.body);

    const again = await latchkey(
      ['create-admin', '--email', email],
      database.env,
      `${GOOD_PASSWORD}\n`,
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has an account: use grant-admin/);
    const weak = await latchkey(
      ['create-admin', '--email', uniqueEmail('weak')],
      database.env,
      'short\n',
    );
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /8/);
    const none = await latchkey(['create-admin', '--email', uniqueEmail('none')], database.env, '');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /stdin/);
  });

  test('grant-admin and revoke-admin change the role at once', async () => {
    const user = await registerUser(t.app);
    const admins = () =>
      t.app.inject({
        method: 'GET',
        url: '/admin/users',
        headers: { authorization: `Bearer ${user.token}` },
      });
    assert.equal((await admins()).statusCode, 403);
    const granted = await latchkey(['grant-admin', user.email], database.env);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, `${user.email} is an admin now.\n`);
    assert.equal((await admins()).statusCode, 200);
    const revoked = await latchkey(['revoke-admin', user.email], database.env);
    assert.equal(revoked.stdout, `${user.email} is no longer an admin.\n`);
    assert.equal((await admins()).statusCode, 403);
  });

  test('disable-user ends the sessions and refuses the login; enable-user lets it in again', async () => {
    const user = await registerUser(t.app);
    const run = await latchkey(['disable-user', user.email.toUpperCase()], database.env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${user.email} is disabled; its sessions have ended.\n`);
    // The CLI waited for every live instance (this test's app) to apply the revocation.
    assert.equal(json(await status(t.app, user.token)).code, 'token_revoked');
    const login = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: user.email, password: GOOD_PASSWORD },
    });
    assert.equal(json(login).code, 'account_disabled');
    const enabled = await latchkey(['enable-user', user.email], database.env);
    assert.equal(enabled.stdout, `${user.email} is enabled.\n`);
    await logIn(t.app, user.email);
  });

  test('end-sessions ends every session at once and says how many', async () => {
    const user = await registerUser(t.app);
    const second = await logIn(t.app, user.email);
    const run = await latchkey(['end-sessions', user.email], database.env);
    assert.equal(run.stdout, `Ended 2 sessions of ${user.email}.\n`);
    assert.equal(json(await status(t.app, second.token)).code, 'token_revoked');
  });

  test('reset-mfa removes the second factors and ends the sessions', async () => {
    const user = await registerUser(t.app);
    const userId = String(jwtClaims(user.token).sub);
    await t.store.saveTotpSecret(userId, 'secret', Date.now());
    const run = await latchkey(['reset-mfa', user.email], database.env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${user.email} has no second factor now; its sessions have ended.\n`);
    assert.equal(await t.store.findTotp(userId), undefined);
    assert.equal(json(await status(t.app, user.token)).code, 'token_revoked');
  });

  test('list-users lists accounts, filtered by --query', async () => {
    const tag = `cli${process.pid}list`;
    const a = await registerUser(t.app, `a.${tag}@example.com`);
    await latchkey(['grant-admin', a.email], database.env);
    t.clock.advance(1); // oldest first: b registers after a
    await registerUser(t.app, `b.${tag}@example.com`);
    const run = await latchkey(['list-users', '--query', tag], database.env);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0] ?? '',
      new RegExp(`^[0-9a-f-]{36}  a\\.${tag}@example\\.com  \\[admin\\]$`),
    );
    assert.match(lines[1] ?? '', new RegExp(`b\\.${tag}@example\\.com$`));
    const none = await latchkey(['list-users', '--query', 'nobody-has-this'], database.env);
    assert.equal(none.stdout, 'No accounts match.\n');
  });

  test('an unknown email, a missing argument and an unknown command fail clearly', async () => {
    for (const command of [
      'grant-admin',
      'revoke-admin',
      'disable-user',
      'enable-user',
      'end-sessions',
      'reset-mfa',
    ]) {
      const run = await latchkey([command, 'nobody@example.com'], database.env);
      assert.equal(run.code, 1, command);
      assert.equal(run.stderr, 'No account has the email nobody@example.com.\n', command);
      const missing = await latchkey([command], database.env);
      assert.equal(missing.code, 2, command);
      assert.match(missing.stderr, new RegExp(`${command} needs an email`));
    }
    const unknown = await latchkey(['make-coffee'], database.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Usage: npm run latchkey -- <command>/);
  });

  test('an unreachable database fails with a clear message and a non-zero exit', async () => {
    const port = await freePort();
    const run = await latchkey(['list-users'], {
      DATABASE_URL: `postgres://latchkey@127.0.0.1:${port}/latchkey`,
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^The database at 127\.0\.0\.1:\d+\/latchkey cannot be reached: .*ECONNREFUSED/,
    );
    assert.equal(run.stdout, '');
  });
});

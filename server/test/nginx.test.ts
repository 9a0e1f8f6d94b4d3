/**
 * The scale-out guide's nginx configuration (docs/nginx/latchkey.conf), run for real: nginx in
 * front of two server processes on one PostgreSQL database, over TLS with a throwaway
 * self-signed certificate. PostgreSQL only, like the guide; it needs nginx and openssl installed
 * (`apt-get install -y nginx openssl`) and fails, saying so, when they are missing.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  freePort,
  killAll,
  type ServerProcess,
  startServer,
  tempDataDir,
  withTimeout,
} from './support/server-process.ts';
import { GOOD_PASSWORD, uniqueEmail } from './support/test-app.ts';
import { createTestDatabase, type TestDatabase, testEngine } from './support/test-database.ts';

const CONFIG = new URL('../../docs/nginx/latchkey.conf', import.meta.url).pathname;
const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find(existsSync);
const INSTALL_HINT = 'install nginx and openssl: `apt-get install -y nginx openssl` (as root)';

const SKIP =
  testEngine === 'postgresql'
    ? false
    : 'the scale-out guide is for PostgreSQL: set LATCHKEY_TEST_DATABASE_URL (npm test does)';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to nginx, trusting its throwaway certificate; bounded in time. */
function call(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const cookieOf = (answer: Answer) =>
  ([answer.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('latchkey_refresh=')) ?? '')
    .split(';')[0]
    ?.slice('latchkey_refresh='.length);

/** The guide's file with this test's ports and certificate; every substitution must apply. */
function configFor(ports: { a: number; b: number; http: number; https: number }, dir: string) {
  let text = readFileSync(CONFIG, 'utf8');
  const replace = (from: string, to: string) => {
    assert.ok(text.includes(from), `docs/nginx/latchkey.conf no longer contains "${from}"`);
    text = text.replaceAll(from, to);
  };
  replace('server 127.0.0.1:3001 ', `server 127.0.0.1:${ports.a} `);
  replace('server 127.0.0.1:3002 ', `server 127.0.0.1:${ports.b} `);
  replace('listen 80;', `listen 127.0.0.1:${ports.http};`);
  replace('listen 443 ssl', `listen 127.0.0.1:${ports.https} ssl`);
  replace('/etc/ssl/latchkey/', `${dir}/`);
  return text;
}

describe('nginx in front of two instances, as docs/scale-out.md sets it up', { skip: SKIP }, () => {
  const dir = tempDataDir();
  let database: TestDatabase;
  let nginx: ChildProcess | undefined;
  let nginxOutput = '';
  let servers: ServerProcess[] = [];
  const ports = { a: 0, b: 0, http: 0, https: 0 };

  before(async () => {
    assert.ok(NGINX, `nginx is not installed: ${INSTALL_HINT}`);
    const cert = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir.dir, 'privkey.pem'),
        '-out',
        join(dir.dir, 'fullchain.pem'),
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(cert.status, 0, `openssl failed (${INSTALL_HINT}): ${cert.stderr}`);

    for (const name of ['a', 'b', 'http', 'https'] as const) ports[name] = await freePort();
    database = await createTestDatabase();
    const env = {
      ...database.env,
      DATABASE_POOL_SIZE: '4',
      PUBLIC_URL: `https://127.0.0.1:${ports.https}`,
      TRUST_PROXY: '127.0.0.1',
      LOG_LEVEL: 'info', // request logs show which instance served what
    };
    servers = await Promise.all([
      startServer({ ...env, PORT: String(ports.a) }),
      startServer({ ...env, PORT: String(ports.b) }),
    ]);

    writeFileSync(join(dir.dir, 'latchkey.conf'), configFor(ports, dir.dir));
    writeFileSync(
      join(dir.dir, 'nginx.conf'),
      [
        'daemon off;',
        'worker_processes 1;',
        `pid ${dir.dir}/nginx.pid;`,
        `error_log ${dir.dir}/error.log warn;`,
        'events { worker_connections 256; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (kind) => `  ${kind}_temp_path ${dir.dir}/${kind}_temp;`,
        ),
        `  include ${dir.dir}/latchkey.conf;`,
        '}',
        '',
      ].join('\n'),
    );
    // As root, workers would run as an unprivileged user that cannot use this private directory.
    const asRoot = process.getuid?.() === 0 ? ['-g', 'user root;'] : [];
    nginx = spawn(
      NGINX,
      [
        '-p',
        dir.dir,
        '-c',
        join(dir.dir, 'nginx.conf'),
        '-e',
        join(dir.dir, 'error.log'),
        ...asRoot,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    nginx.stdout?.setEncoding('utf8').on('data', (chunk: string) => (nginxOutput += chunk));
    nginx.stderr?.setEncoding('utf8').on('data', (chunk: string) => (nginxOutput += chunk));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const health = await call(ports.https, 'GET', '/health').catch(() => undefined);
      if (health?.status === 200) break;
      if (nginx.exitCode !== null || Date.now() > deadline) {
        const log = existsSync(join(dir.dir, 'error.log'))
          ? readFileSync(join(dir.dir, 'error.log'), 'utf8')
          : '';
        assert.fail(`nginx did not come up:\n${nginxOutput}\n${log}`);
      }
      await sleep(50);
    }
  });

  after(async () => {
    if (nginx?.pid !== undefined && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx?.once('exit', resolve));
      process.kill(nginx.pid, 'SIGTERM');
      await withTimeout(exited, 5_000, 'nginx did not stop').catch(() => undefined);
    }
    await killAll();
    await database?.remove();
    dir.remove();
  });

  test('plain http is redirected to https', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.http}/auth/status`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), 'https://127.0.0.1/auth/status');
  });

  test('register, status, refresh and logout work through nginx, with instances sharing everything', async () => {
    const email = uniqueEmail('nginx');
    const registered = await call(ports.https, 'POST', '/auth/register', {
      body: { email, password: GOOD_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.body);
    const token = (JSON.parse(registered.body) as { auth_token: string }).auth_token;
    const cookie = cookieOf(registered);
    assert.ok(cookie, 'a refresh cookie');
    const bearer = { authorization: `Bearer ${token}` };

    // Round robin sends these to both instances; each accepts the token the other issued.
    for (let i = 0; i < 4; i++) {
      const answer = await call(ports.https, 'GET', '/auth/status', { headers: bearer });
      assert.equal(answer.status, 200, answer.body);
    }
    for (const server of servers) {
      assert.match(
        server.output(),
        /"url":"\/auth\/status"/,
        `instance ${server.port} served none`,
      );
    }
    // A browser on the public origin refreshes with the cookie alone.
    const refreshed = await call(ports.https, 'POST', '/auth/refresh', {
      headers: {
        cookie: `latchkey_refresh=${cookie}`,
        origin: `https://127.0.0.1:${ports.https}`,
      },
      body: {},
    });
    assert.equal(refreshed.status, 200, refreshed.body);

    const logout = await call(ports.https, 'POST', '/auth/logout', { headers: bearer });
    assert.equal(logout.status, 200, logout.body);
    // Soon, whichever instance answers refuses the token (how soon: bench/scenarios/scale-out.ts).
    // Until then an instance may still accept it; any other answer is a failure. The deadline
    // only fails a revocation that never arrives.
    const deadline = performance.now() + 10_000;
    let refusedInARow = 0;
    while (refusedInARow < 4) {
      const answer = await call(ports.https, 'GET', '/auth/status', { headers: bearer });
      if (answer.status === 200) {
        refusedInARow = 0;
        assert.ok(performance.now() < deadline, 'an instance still accepts the token after 10 s');
        await sleep(20);
      } else {
        assert.equal(answer.status, 401, answer.body);
        assert.equal((JSON.parse(answer.body) as { code?: string }).code, 'token_revoked');
        refusedInARow++;
      }
    }
  });

  test('a forged X-Forwarded-For does not reach the instances: they see the real client address', async () => {
    const email = uniqueEmail('xff');
    const registered = await call(ports.https, 'POST', '/auth/register', {
      headers: { 'x-forwarded-for': '203.0.113.77' },
      body: { email, password: GOOD_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.body);
    const token = (JSON.parse(registered.body) as { auth_token: string }).auth_token;
    const sessions = await call(ports.https, 'GET', '/auth/sessions', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(sessions.status, 200, sessions.body);
    const [session] = (JSON.parse(sessions.body) as { data: { ip: string | null }[] }).data;
    assert.equal(session?.ip, '127.0.0.1');
  });

  test('when one instance dies, nginx sends requests to the other', async () => {
    const email = uniqueEmail('failover');
    const registered = await call(ports.https, 'POST', '/auth/register', {
      body: { email, password: GOOD_PASSWORD },
    });
    assert.equal(registered.status, 201, registered.body);
    await servers[0]?.stop('SIGKILL');
    for (let i = 0; i < 4; i++) {
      const login = await call(ports.https, 'POST', '/auth/login', {
        body: { email, password: GOOD_PASSWORD },
      });
      assert.equal(login.status, 200, login.body);
    }
  });
});

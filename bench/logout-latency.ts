/**
 * `npm run bench:logout`: what confirmed revocation costs a logout. For 1, 2 and 3 instances on
 * one SQLite DATA_DIR and on one PostgreSQL database (a throwaway cluster, or DATABASE_URL), it
 * times logouts one after another from a client on loopback (register, then log out with the
 * bearer token), then asks every other instance for the token's status right after each answer:
 * each must already say 401 `token_revoked` (the revocation delay the client sees is zero by
 * design; the timing is the wait for the others to confirm). Bounded: ROUNDS logouts per setup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPostgresBinDir } from '../scripts/throwaway-postgres.ts';
import { type BenchPostgres, externalBenchPostgres, startBenchPostgres } from './bench-postgres.ts';
import { percentile } from './percentile.ts';
import { type BenchServer, startServer } from './start-server.ts';

const ROUNDS = 100;
const PASSWORD = 'correct horse battery staple';

async function post(url: string, body: unknown, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function measure(
  servers: BenchServer[],
): Promise<{ p50: number; p95: number; missed: number }> {
  const [first, ...others] = servers;
  if (first === undefined) throw new Error('no server');
  const times: number[] = [];
  let missed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const email = `logout-${process.pid}-${round}-${servers.length}@example.com`;
    const registered = await post(`${first.baseUrl}/auth/register`, { email, password: PASSWORD });
    const token = String(registered.body['auth_token']);
    // Every instance has checked (and cached) the token before the logout.
    for (const server of servers) {
      const res = await fetch(`${server.baseUrl}/auth/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await res.body?.cancel();
    }
    const started = performance.now();
    const out = await post(`${first.baseUrl}/auth/logout`, {}, token);
    times.push(performance.now() - started);
    if (out.status !== 200) throw new Error(`logout answered ${out.status}`);
    for (const server of others) {
      const res = await fetch(`${server.baseUrl}/auth/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { code?: string };
      if (body.code !== 'token_revoked') missed++;
    }
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), missed };
}

async function run(engine: 'SQLite' | 'PostgreSQL', postgres: BenchPostgres | undefined) {
  for (const count of [1, 2, 3]) {
    const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-logout-'));
    const databaseUrl = postgres === undefined ? undefined : await postgres.newDatabase();
    const servers: BenchServer[] = [];
    try {
      for (let i = 0; i < count; i++) {
        servers.push(
          await startServer({
            dataDir,
            hashConcurrency: 1,
            databaseUrl,
            publicUrl: 'http://127.0.0.1:1',
          }),
        );
      }
      const { p50, p95, missed } = await measure(servers);
      console.log(
        `| ${engine} | ${count} | ${p50.toFixed(1)} ms | ${p95.toFixed(1)} ms | ${missed} of ${ROUNDS * (count - 1)} |`,
      );
    } finally {
      for (const server of servers) await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

console.log(
  '| database | instances | logout p50 | logout p95 | other instances not yet refusing |',
);
console.log('| --- | --- | --- | --- | --- |');
await run('SQLite', undefined);
const url = process.env['DATABASE_URL'];
const binDir = url === undefined ? findPostgresBinDir() : undefined;
if (url === undefined && binDir === undefined) {
  console.log('PostgreSQL not installed: its rows are left out');
} else {
  const postgres =
    url === undefined ? await startBenchPostgres(binDir ?? '') : externalBenchPostgres(url);
  try {
    await run('PostgreSQL', postgres);
  } finally {
    await postgres.remove();
  }
}

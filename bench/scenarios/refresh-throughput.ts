import type autocannon from 'autocannon';
import { createAuthClient, refreshTokenFrom, type SignedIn } from '../auth-client.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 4;

/** A session and its latest refresh token. */
interface PooledSession {
  refreshToken: string;
}

/**
 * Requests that each carry the latest refresh cookie of a session nobody else is using.
 *
 * Every refresh rotates the cookie, so a session's next request must carry the token from its last
 * answer. autocannon resets a connection's context each time the connection's request sequence
 * wraps (with one request in the sequence: before every request), so a session cannot stay in the
 * context between requests. Instead `setupRequest` checks a free session out of a shared pool into
 * the connection's context and `onResponse` stores the rotated token and checks it back in: one
 * request per session at a time, always with its latest cookie, never a superseded one (which
 * after the reuse grace period would end the session as a theft).
 */
function refreshRequests(pool: PooledSession[]): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/auth/refresh',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      setupRequest(request, context) {
        const session = pool.shift();
        if (session === undefined) throw new Error('the refresh session pool ran dry');
        context['session'] = session;
        return {
          ...request,
          headers: { ...request.headers, cookie: `latchkey_refresh=${session.refreshToken}` },
        };
      },
      onResponse(status, _body, context, headers) {
        const session = context['session'] as PooledSession | undefined;
        const setCookie = headers['set-cookie'] ?? [];
        const next = refreshTokenFrom(Array.isArray(setCookie) ? setCookie : [setCookie]);
        if (session === undefined || status !== 200 || next === undefined) return; // lost
        session.refreshToken = next;
        pool.push(session);
      },
    },
  ];
}

/** Target 3: a refresh is a database transaction and a signature; it must stay cheap. */
export function refreshThroughput(database: 'SQLite' | 'PostgreSQL'): Scenario {
  return {
    id: database === 'SQLite' ? 'refresh' : 'refresh-postgresql',
    title: `POST /auth/refresh on ${database} against the bare route`,
    needsPostgres: database === 'PostgreSQL',
    async run(context) {
      const { settings } = context;
      const server = await startServer({
        dataDir: context.newDataDir(),
        hashConcurrency: settings.hashConcurrency,
        profileDir: settings.profileDir,
        ...(database === 'PostgreSQL' ? { databaseUrl: await context.postgresDatabase() } : {}),
      });
      try {
        const runId = database === 'SQLite' ? context.runId : `${context.runId.slice(0, 5)}p`;
        const accounts = await registerBenchAccounts(server.baseUrl, runId, ACCOUNTS);
        const client = createAuthClient(server.baseUrl);
        // A request still in flight when a load run stops loses its session (the server may have
        // rotated the token; the answer is never read), so the pool holds a spare session per
        // connection for every run (the warm-up and each round), plus one set in use.
        const sessionCount = settings.connections * (settings.rounds + 2);
        const more: Promise<SignedIn>[] = [];
        for (let i = accounts.length; i < sessionCount; i += 1) {
          more.push(client.logIn(accounts[i % accounts.length]?.email ?? '', BENCH_PASSWORD));
        }
        const sessions = [...accounts, ...(await Promise.all(more))];
        const pool: PooledSession[] = sessions.map((s) => ({ refreshToken: s.refreshToken }));
        const body = await client.status(accounts[0]?.accessToken ?? '');
        const baseline = await context.baseline(Buffer.byteLength(body));

        context.log(
          `POST /auth/refresh on ${database} (${sessions.length} sessions) and the bare route ` +
            `in turn, ${settings.durationSeconds} s each`,
        );
        const [refresh, bare] = await measureThroughput(
          [
            {
              baseUrl: server.baseUrl,
              requests: refreshRequests(pool),
              connections: settings.connections,
            },
            {
              baseUrl: baseline.baseUrl,
              requests: [{ method: 'GET', path: '/auth/status' }],
              connections: settings.connections,
            },
          ],
          settings,
        );
        if (refresh === undefined || bare === undefined) throw new Error('no figures');
        return {
          measurements: [
            { label: `POST /auth/refresh on ${database} (rotating cookies)`, ...refresh },
            { label: `bare Fastify route (in turn with refresh on ${database})`, ...bare },
          ],
          checks: [
            checkTarget({
              label: `POST /auth/refresh on ${database} ÷ bare route, throughput`,
              value: refresh.requestsPerSecond / bare.requestsPerSecond,
              unit: 'ratio',
              comparison: 'at least',
              limit: 0.15,
              detail:
                `${formatRate(refresh.requestsPerSecond)} vs ${formatRate(bare.requestsPerSecond)} ` +
                `req/s; refresh p50 ${formatMs(refresh.p50Ms)}, p99 ${formatMs(refresh.p99Ms)}`,
            }),
          ],
          memory: [
            { label: `refresh load on ${database}`, peakRssBytes: server.child.peakRssBytes() },
          ],
          notes: [],
        };
      } finally {
        await server.stop();
      }
    },
  };
}

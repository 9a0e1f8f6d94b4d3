import type autocannon from 'autocannon';
import { createAuthClient, refreshTokenFrom, type SignedIn } from '../auth-client.ts';
import { CONFIG_VARIABLES } from '../../server/src/config-variables.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 4;
/**
 * Client addresses the refreshes come from, in turn (X-Forwarded-For behind TRUST_PROXY=1): with
 * the default per-IP limit on, as in production, enough of them that a few thousand refreshes a
 * second for the run's ten seconds stay under it (about 20 a minute each), so the limit's
 * counting is measured and never its refusals.
 */
const CLIENT_ADDRESSES = 2000;
/** Sign-ins at once while the session pool is filled. */
const LOGIN_BATCH = 16;
const clientAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

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
  let sent = 0;
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
        sent += 1;
        return {
          ...request,
          headers: {
            ...request.headers,
            cookie: `latchkey_refresh=${session.refreshToken}`,
            'x-forwarded-for': clientAddress(sent % CLIENT_ADDRESSES),
          },
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
        // The default per-IP limit, on (the other scenarios turn it off), behind one proxy.
        env: { RATE_LIMIT_PER_IP: CONFIG_VARIABLES.RATE_LIMIT_PER_IP.default, TRUST_PROXY: '1' },
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
        // In batches below HASH_QUEUE_MAX (64), which answers 503 past it.
        const more: SignedIn[] = [];
        for (let from = accounts.length; from < sessionCount; from += LOGIN_BATCH) {
          const batch: Promise<SignedIn>[] = [];
          for (let i = from; i < Math.min(from + LOGIN_BATCH, sessionCount); i += 1) {
            batch.push(
              client.logIn(
                accounts[i % accounts.length]?.email ?? '',
                BENCH_PASSWORD,
                clientAddress(CLIENT_ADDRESSES + i),
              ),
            );
          }
          more.push(...(await Promise.all(batch)));
        }
        const sessions = [...accounts, ...more];
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
            {
              label: `POST /auth/refresh on ${database} (rotating cookies, per-IP limit on)`,
              ...refresh,
            },
            { label: `bare Fastify route (in turn with refresh on ${database})`, ...bare },
          ],
          checks: [
            checkTarget({
              label: `POST /auth/refresh on ${database} ÷ bare route, throughput`,
              value: refresh.requestsPerSecond / bare.requestsPerSecond,
              unit: 'ratio',
              comparison: 'at least',
              limit: database === 'SQLite' ? 0.08 : 0.05,
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

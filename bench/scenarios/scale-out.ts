import { availableParallelism } from 'node:os';
import { loginRequests, statusRequests } from '../auth-requests.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { formatRate } from '../format-figures.ts';
import { type LoadSpec, measureThroughput } from '../measure-throughput.ts';
import type { Measurement, Scenario } from '../scenario.ts';
import { type BenchServer, startServer } from '../start-server.ts';
import { formatValue } from '../target-check.ts';

const ACCOUNTS = 8;
/**
 * Measured seconds per load (one instance, two instances), split over as many rounds: long
 * enough for a steady rate, short enough that the whole bench stays within its 5 minutes.
 */
const SECONDS = 6;

/**
 * docs/scale-out.md's question: what a second instance on the same PostgreSQL adds. Two
 * instances run from the start; the load goes to the first only, or is spread over both (the
 * connections split evenly between the two ports, straight from the load generator: no proxy,
 * whose own CPU would be counted against the two instances), and the two loads take turns, so
 * both see the same machine. No target: the figures go into the guide as they are.
 */
export const scaleOut: Scenario = {
  id: 'scale-out',
  title: 'One and two instances on one PostgreSQL',
  needsPostgres: true,
  async run(context) {
    const { settings } = context;
    const databaseUrl = await context.postgresDatabase();
    const servers: BenchServer[] = [];
    try {
      const start = (publicUrl?: string) =>
        startServer({
          dataDir: context.newDataDir(),
          hashConcurrency: settings.hashConcurrency,
          profileDir: settings.profileDir,
          databaseUrl,
          ...(publicUrl === undefined ? {} : { publicUrl }),
        });
      // One after the other: the first migrates the fresh database, the second finds it done.
      // The second gets the first's PUBLIC_URL (by default its own address): the guide's "the
      // same everywhere", without which neither accepts the other's tokens.
      const first = await start();
      servers.push(first);
      const second = await start(first.baseUrl);
      servers.push(second);
      // Registered on the first instance: the second checks the same tokens with the shared keys.
      const runId = `${context.runId.slice(0, 5)}s`;
      const accounts = await registerBenchAccounts(first.baseUrl, runId, ACCOUNTS);
      const timing = { warmupSeconds: settings.warmupSeconds, durationSeconds: SECONDS };
      const oneAndTwo = (load: Omit<LoadSpec, 'baseUrl'>) =>
        measureThroughput(
          [
            { ...load, baseUrl: first.baseUrl },
            { ...load, baseUrl: first.baseUrl, moreBaseUrls: [second.baseUrl] },
          ],
          { ...timing, rounds: SECONDS },
        );

      context.log(`GET /auth/status on one, then two instances, in turn, ${SECONDS} s each`);
      const [statusOne, statusTwo] = await oneAndTwo({
        requests: statusRequests(accounts.map((a) => a.accessToken)),
        connections: settings.connections,
      });
      context.log(`POST /auth/login on one, then two instances, in turn, ${SECONDS} s each`);
      const [loginOne, loginTwo] = await oneAndTwo({
        requests: loginRequests(
          accounts.map((a) => a.email),
          BENCH_PASSWORD,
        ),
        connections: settings.loginConnections,
      });
      if (!statusOne || !statusTwo || !loginOne || !loginTwo) throw new Error('no figures');

      const half = (connections: number) => `${connections / 2} connections to each`;
      const measurements: Measurement[] = [
        {
          label: `GET /auth/status, one instance on PostgreSQL (${settings.connections} connections)`,
          ...statusOne,
        },
        {
          label: `GET /auth/status, two instances on PostgreSQL (${half(settings.connections)})`,
          ...statusTwo,
        },
        {
          label: `POST /auth/login, one instance on PostgreSQL (${settings.loginConnections} connections)`,
          ...loginOne,
        },
        {
          label: `POST /auth/login, two instances on PostgreSQL (${half(settings.loginConnections)})`,
          ...loginTwo,
        },
      ];
      const ratio = (two: number, one: number) => formatValue(two / one, 'ratio');
      return {
        measurements,
        checks: [],
        memory: [
          { label: 'scale-out, first instance', peakRssBytes: first.child.peakRssBytes() },
          { label: 'scale-out, second instance', peakRssBytes: second.child.peakRssBytes() },
        ],
        notes: [
          `Scale-out (no target; docs/scale-out.md): two instances on one PostgreSQL against ` +
            `one, each with HASH_CONCURRENCY=${settings.hashConcurrency}, on the ` +
            `${availableParallelism()} cores they share with PostgreSQL and the load generator: ` +
            `GET /auth/status ${formatRate(statusTwo.requestsPerSecond)} vs ` +
            `${formatRate(statusOne.requestsPerSecond)} req/s ` +
            `(${ratio(statusTwo.requestsPerSecond, statusOne.requestsPerSecond)}), POST ` +
            `/auth/login ${formatRate(loginTwo.requestsPerSecond)} vs ` +
            `${formatRate(loginOne.requestsPerSecond)} logins/s ` +
            `(${ratio(loginTwo.requestsPerSecond, loginOne.requestsPerSecond)}). Both instances ` +
            `ran throughout and the one-instance loads left the second idle; the two-instance ` +
            `loads split the connections evenly between the two ports, straight from the load ` +
            `generator (no proxy). The loads took turns, ${SECONDS} rounds of 1 s each.`,
        ],
      };
    } finally {
      for (const server of servers) await server.stop();
    }
  },
};

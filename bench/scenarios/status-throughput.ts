import { statusRequests } from '../auth-requests.ts';
import { createAuthClient } from '../auth-client.ts';
import { registerBenchAccounts } from '../bench-accounts.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

/** Registered accounts whose tokens the load cycles through. */
const ACCOUNTS = 8;

/**
 * Target 1: a status check costs close to a bare Fastify route (decision 0004: cached token
 * verification, in-memory revocation and user caches, no query and no threadpool job).
 */
export const statusThroughput: Scenario = {
  id: 'status',
  title: 'GET /auth/status against the bare route',
  async run(context) {
    const { settings } = context;
    const server = await startServer({
      dataDir: context.newDataDir(),
      hashConcurrency: settings.hashConcurrency,
      profileDir: settings.profileDir,
    });
    try {
      const accounts = await registerBenchAccounts(server.baseUrl, context.runId, ACCOUNTS);
      const tokens = accounts.map((a) => a.accessToken);
      const body = await createAuthClient(server.baseUrl).status(tokens[0] ?? '');
      const baseline = await context.baseline(Buffer.byteLength(body));
      const load = { requests: statusRequests(tokens), connections: settings.connections };
      context.log(`bare route and GET /auth/status in turn, ${settings.durationSeconds} s each`);
      const [bare, status] = await measureThroughput(
        [
          { ...load, baseUrl: baseline.baseUrl },
          { ...load, baseUrl: server.baseUrl },
        ],
        settings,
      );
      if (bare === undefined || status === undefined) throw new Error('no figures');
      return {
        measurements: [
          { label: `bare Fastify route (${baseline.bodyBytes}-byte JSON)`, ...bare },
          { label: `GET /auth/status (${ACCOUNTS} users' tokens in turn)`, ...status },
        ],
        checks: [
          checkTarget({
            label: 'GET /auth/status ÷ bare route, throughput',
            value: status.requestsPerSecond / bare.requestsPerSecond,
            unit: 'ratio',
            comparison: 'at least',
            limit: 0.8,
            detail:
              `${formatRate(status.requestsPerSecond)} vs ${formatRate(bare.requestsPerSecond)} ` +
              `req/s; p50 ${formatMs(status.p50Ms)} vs ${formatMs(bare.p50Ms)}, ` +
              `p99 ${formatMs(status.p99Ms)} vs ${formatMs(bare.p99Ms)}`,
          }),
        ],
        memory: [{ label: 'status load', peakRssBytes: server.child.peakRssBytes() }],
        notes: [],
      };
    } finally {
      await server.stop();
    }
  },
};

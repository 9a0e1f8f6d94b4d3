import { statusRequests, loginRequests } from '../auth-requests.ts';
import { createAuthClient } from '../auth-client.ts';
import { BENCH_PASSWORD, benchEmail, registerBenchAccounts } from '../bench-accounts.ts';
import { formatMb, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import type { Measurement, Scenario } from '../scenario.ts';
import { seedUsers } from '../seed-users.ts';
import { type BenchServer, startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const USERS = 1_000_000;
const ACCOUNTS = 4;

/**
 * Target 6: lookups go through indexes and caches, so a million users cost the same per request
 * as a handful. The two servers run side by side and are loaded in turn (small, large, small,
 * large), so drift in the machine's other load hits both alike.
 */
export const millionUsers: Scenario = {
  id: 'million-users',
  title: `${USERS.toLocaleString('en-US')} users against a nearly empty database`,
  async run(context) {
    const { settings } = context;
    const start = (dataDir: string) =>
      startServer({
        dataDir,
        hashConcurrency: settings.hashConcurrency,
        profileDir: settings.profileDir,
      });
    const servers: BenchServer[] = [];
    try {
      // The large database: the server creates the schema and one account, then stops; the
      // rest are inserted straight into the file.
      const largeDir = context.newDataDir();
      const seeding = await start(largeDir);
      servers.push(seeding);
      const emailOf = (i: number) => benchEmail(`${context.runId.slice(0, 5)}m`, i);
      await createAuthClient(seeding.baseUrl).register(emailOf(0), BENCH_PASSWORD);
      await seeding.stop();
      context.log(`seeding ${USERS.toLocaleString('en-US')} users`);
      const seedStart = performance.now();
      const bytes = seedUsers({
        dataDir: largeDir,
        templateEmail: emailOf(0),
        from: 1,
        to: USERS,
        emailOf,
      });
      const seedSeconds = (performance.now() - seedStart) / 1000;

      const small = await start(context.newDataDir());
      servers.push(small);
      const large = await start(largeDir);
      servers.push(large);
      const smallAccounts = await registerBenchAccounts(small.baseUrl, context.runId, ACCOUNTS);
      const spread = Array.from({ length: ACCOUNTS }, (_, i) =>
        Math.floor(((i + 1) * (USERS - 1)) / ACCOUNTS),
      );
      const largeClient = createAuthClient(large.baseUrl);
      const largeAccounts = await Promise.all(
        spread.map((i) => largeClient.logIn(emailOf(i), BENCH_PASSWORD)),
      );

      context.log('GET /auth/status on each database in turn');
      const [statusSmall, statusLarge] = await measureThroughput(
        [
          {
            baseUrl: small.baseUrl,
            requests: statusRequests(smallAccounts.map((a) => a.accessToken)),
            connections: settings.connections,
          },
          {
            baseUrl: large.baseUrl,
            requests: statusRequests(largeAccounts.map((a) => a.accessToken)),
            connections: settings.connections,
          },
        ],
        settings,
      );
      context.log('POST /auth/login on each database in turn');
      const [loginSmall, loginLarge] = await measureThroughput(
        [
          {
            baseUrl: small.baseUrl,
            requests: loginRequests(
              smallAccounts.map((a) => a.email),
              BENCH_PASSWORD,
            ),
            connections: settings.loginConnections,
          },
          {
            baseUrl: large.baseUrl,
            requests: loginRequests(
              largeAccounts.map((a) => a.email),
              BENCH_PASSWORD,
            ),
            connections: settings.loginConnections,
          },
        ],
        settings,
      );
      if (!statusSmall || !statusLarge || !loginSmall || !loginLarge) throw new Error('no figures');

      const measurements: Measurement[] = [
        { label: 'GET /auth/status, nearly empty database', ...statusSmall },
        { label: 'GET /auth/status, 1,000,000 users', ...statusLarge },
        { label: 'POST /auth/login, nearly empty database', ...loginSmall },
        { label: 'POST /auth/login, 1,000,000 users', ...loginLarge },
      ];
      const memory = [
        {
          label: 'nearly empty database (status, login)',
          peakRssBytes: small.child.peakRssBytes(),
        },
        { label: '1,000,000 users (status, login)', peakRssBytes: large.child.peakRssBytes() },
      ];
      return {
        measurements,
        checks: [
          checkTarget({
            label: 'GET /auth/status, 1M users ÷ nearly empty, throughput',
            value: statusLarge.requestsPerSecond / statusSmall.requestsPerSecond,
            unit: 'ratio',
            comparison: 'at least',
            limit: 0.9,
            detail: `${formatRate(statusLarge.requestsPerSecond)} vs ${formatRate(statusSmall.requestsPerSecond)} req/s`,
          }),
          checkTarget({
            label: 'POST /auth/login, 1M users ÷ nearly empty, throughput',
            value: loginLarge.requestsPerSecond / loginSmall.requestsPerSecond,
            unit: 'ratio',
            comparison: 'at least',
            limit: 0.9,
            detail: `${formatRate(loginLarge.requestsPerSecond)} vs ${formatRate(loginSmall.requestsPerSecond)} logins/s`,
          }),
        ],
        memory,
        notes: [
          `The large database: ${USERS.toLocaleString('en-US')} users seeded in ` +
            `${seedSeconds.toFixed(1)} s, ${formatMb(bytes)} on disk.`,
        ],
      };
    } finally {
      for (const server of servers) await server.stop();
    }
  },
};

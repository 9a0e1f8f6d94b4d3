import { loginRequests } from '../auth-requests.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureHashRate } from '../measure-hash-rate.ts';
import { measureThroughput } from '../measure-throughput.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 4;

/**
 * Target 2: a login is an argon2id verification plus little else, so logins per second come
 * close to the raw rate of verifications this machine does with the same parameters and the same
 * number running at once. The raw rate is measured before and after the logins and averaged, so
 * a change in the machine's other load during the scenario shows in both sides alike.
 */
export const loginThroughput: Scenario = {
  id: 'login',
  title: 'POST /auth/login against the raw argon2id rate',
  async run(context) {
    const { settings } = context;
    const server = await startServer({
      dataDir: context.newDataDir(),
      hashConcurrency: settings.hashConcurrency,
      profileDir: settings.profileDir,
    });
    try {
      const accounts = await registerBenchAccounts(server.baseUrl, context.runId, ACCOUNTS);
      const hashRate = {
        concurrency: settings.hashConcurrency,
        warmupSeconds: settings.warmupSeconds,
        durationSeconds: settings.durationSeconds,
      };
      context.log(
        `raw argon2id, ${settings.hashConcurrency} at once, ${hashRate.durationSeconds} s`,
      );
      const before = await measureHashRate(hashRate);
      context.log(`POST /auth/login, ${settings.loginConnections} connections`);
      const [login] = await measureThroughput(
        [
          {
            baseUrl: server.baseUrl,
            requests: loginRequests(
              accounts.map((a) => a.email),
              BENCH_PASSWORD,
            ),
            connections: settings.loginConnections,
          },
        ],
        { ...settings, rounds: 1 },
      );
      if (login === undefined) throw new Error('no figures');
      context.log('raw argon2id again');
      const after = await measureHashRate(hashRate);
      const raw = (before.hashesPerSecond + after.hashesPerSecond) / 2;
      return {
        measurements: [
          {
            label: `raw argon2id, ${settings.hashConcurrency} at once (mean of before and after)`,
            requestsPerSecond: raw,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
          {
            label: `POST /auth/login (${settings.loginConnections} connections)`,
            ...login,
          },
        ],
        checks: [
          checkTarget({
            label: 'POST /auth/login ÷ raw argon2id rate',
            value: login.requestsPerSecond / raw,
            unit: 'ratio',
            comparison: 'at least',
            limit: 0.9,
            detail:
              `${formatRate(login.requestsPerSecond)} logins/s vs ${formatRate(raw)} hashes/s ` +
              `(${formatRate(before.hashesPerSecond)} before, ${formatRate(after.hashesPerSecond)} ` +
              `after; ${settings.hashConcurrency} at once); login p50 ${formatMs(login.p50Ms)}, ` +
              `p99 ${formatMs(login.p99Ms)}`,
          }),
        ],
        memory: [{ label: 'login load', peakRssBytes: server.child.peakRssBytes() }],
        notes: [
          `Raw argon2id (m=19456 KiB, t=2, p=1, ${settings.hashConcurrency} at once, its own ` +
            `process): ${formatRate(before.hashesPerSecond)} hashes/s before the logins, ` +
            `${formatRate(after.hashesPerSecond)} after.`,
        ],
      };
    } finally {
      await server.stop();
    }
  },
};

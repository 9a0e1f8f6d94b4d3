import { setTimeout as sleep } from 'node:timers/promises';
import { loginRequests } from '../auth-requests.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import { type ProbeSample, probeLatency, summarizeLatency } from '../probe-latency.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 4;
/** Probes per second: often enough for a p99 over a few seconds, too few to load the server. */
const PROBE_RATE = 50;
/** Probes sent this soon after the storm starts or stops belong to neither phase. */
const SETTLE_MS = 300;

interface Window {
  storm: boolean;
  from: number;
  to: number;
}

/**
 * Target 4: a storm of logins (argon2id saturating the CPU) must not delay token checks. One
 * paced prober times /auth/status throughout, while quiet windows and login-storm windows take
 * turns, so both phases see the same background load of the machine; its p99 during the storm
 * windows is compared with its p99 during the quiet ones.
 */
export const statusDuringLoginStorm: Scenario = {
  id: 'storm',
  title: 'GET /auth/status latency during a login storm',
  async run(context) {
    const { settings } = context;
    const server = await startServer({
      dataDir: context.newDataDir(),
      hashConcurrency: settings.hashConcurrency,
      profileDir: settings.profileDir,
    });
    try {
      const accounts = await registerBenchAccounts(server.baseUrl, context.runId, ACCOUNTS);
      const login = {
        baseUrl: server.baseUrl,
        requests: loginRequests(
          accounts.map((a) => a.email),
          BENCH_PASSWORD,
        ),
        connections: settings.loginConnections,
      };
      const windowSeconds = settings.durationSeconds / settings.rounds;
      context.log(
        `${PROBE_RATE} status probes/s throughout; ${settings.rounds} quiet and ` +
          `${settings.rounds} login-storm windows of ${windowSeconds} s in turn`,
      );
      const windows: Window[] = [];
      let logins = 0;
      let stormSeconds = 0;
      const alternate = async () => {
        for (let round = 0; round < settings.rounds; round += 1) {
          const quietFrom = performance.now();
          await sleep(windowSeconds * 1000);
          windows.push({ storm: false, from: quietFrom, to: performance.now() });
          const stormFrom = performance.now();
          const [storm] = await measureThroughput([login], {
            warmupSeconds: 0,
            durationSeconds: windowSeconds,
            rounds: 1,
          });
          windows.push({ storm: true, from: stormFrom, to: performance.now() });
          logins += storm?.ok ?? 0;
          stormSeconds += storm?.durationSeconds ?? 0;
        }
      };
      const [samples] = await Promise.all([
        probeLatency({
          url: `${server.baseUrl}/auth/status`,
          headerSets: accounts.map((a) => ({ authorization: `Bearer ${a.accessToken}` })),
          ratePerSecond: PROBE_RATE,
          durationMs: settings.durationSeconds * 2 * 1000,
        }),
        alternate(),
      ]);
      const inPhase = (storm: boolean) => (sample: ProbeSample) =>
        windows.some(
          (w) => w.storm === storm && sample.sentAt >= w.from + SETTLE_MS && sample.sentAt < w.to,
        );
      const quiet = summarizeLatency(samples.filter(inPhase(false)));
      const loaded = summarizeLatency(samples.filter(inPhase(true)));
      const failures = quiet.failed + loaded.failed;
      const loginsPerSecond = logins / stormSeconds;
      return {
        measurements: [
          {
            label: `status prober, quiet windows (${PROBE_RATE}/s, ${quiet.samples} probes)`,
            requestsPerSecond: Number.NaN,
            p50Ms: quiet.p50Ms,
            p99Ms: quiet.p99Ms,
          },
          {
            label: `status prober, login-storm windows (${PROBE_RATE}/s, ${loaded.samples} probes)`,
            requestsPerSecond: Number.NaN,
            p50Ms: loaded.p50Ms,
            p99Ms: loaded.p99Ms,
          },
          {
            label: `POST /auth/login, the storm (${settings.loginConnections} connections)`,
            requestsPerSecond: loginsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
        ],
        checks: [
          checkTarget({
            label: 'status p99 during a login storm ÷ quiet p99',
            value: failures === 0 ? loaded.p99Ms / quiet.p99Ms : Number.NaN,
            unit: 'ratio',
            comparison: 'at most',
            limit: 3,
            detail:
              `p99 ${formatMs(loaded.p99Ms)} vs ${formatMs(quiet.p99Ms)} ` +
              `(p50 ${formatMs(loaded.p50Ms)} vs ${formatMs(quiet.p50Ms)}, max ` +
              `${formatMs(loaded.maxMs)} vs ${formatMs(quiet.maxMs)}); ` +
              `${formatRate(loginsPerSecond)} logins/s in the storm; ${failures} failed probes`,
          }),
        ],
        memory: [{ label: 'login storm', peakRssBytes: server.child.peakRssBytes() }],
        notes: [],
      };
    } finally {
      await server.stop();
    }
  },
};

import { setTimeout as sleep } from 'node:timers/promises';
import { loginRequests } from '../auth-requests.ts';
import { BENCH_PASSWORD, registerBenchAccounts } from '../bench-accounts.ts';
import { mintAccessTokens } from '../mint-access-tokens.ts';
import { formatMs, formatRate } from '../format-figures.ts';
import { measureThroughput } from '../measure-throughput.ts';
import { type ProbeSample, probeLatency, summarizeLatency } from '../probe-latency.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 4;
/**
 * Probes per second, half with cached tokens and half with tokens never seen before: often enough
 * for a p99 of each over a few seconds, too few to load the server.
 */
const PROBE_RATE = 100;
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
    const dataDir = context.newDataDir();
    const server = await startServer({
      dataDir,
      hashConcurrency: settings.hashConcurrency,
      profileDir: settings.profileDir,
    });
    try {
      // The prober's users sign in once and never again: the storm's users pass
      // MAX_SESSIONS_PER_USER within seconds, which ends their oldest sessions, and with them
      // any token the prober would carry.
      const all = await registerBenchAccounts(server.baseUrl, context.runId, ACCOUNTS * 2);
      const accounts = all.slice(0, ACCOUNTS);
      const probed = all.slice(ACCOUNTS);
      const login = {
        baseUrl: server.baseUrl,
        requests: loginRequests(
          accounts.map((a) => a.email),
          BENCH_PASSWORD,
        ),
        connections: settings.loginConnections,
      };
      const probeCount = PROBE_RATE * settings.durationSeconds * 2;
      // Every other probe carries a token of its own, minted with the server's key: a cold check,
      // a full signature verification, never served from the cache.
      const coldTokens = mintAccessTokens(
        dataDir,
        probed[0]?.accessToken ?? '',
        Math.ceil(probeCount / 2),
      ).tokens;
      const headerSets = Array.from({ length: probeCount }, (_, i) => ({
        authorization: `Bearer ${
          i % 2 === 0
            ? (probed[(i / 2) % ACCOUNTS]?.accessToken ?? '')
            : (coldTokens[(i - 1) / 2] ?? '')
        }`,
      }));
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
          headerSets,
          ratePerSecond: PROBE_RATE,
          durationMs: settings.durationSeconds * 2 * 1000,
        }),
        alternate(),
      ]);
      const inPhase = (storm: boolean, cold: boolean) => (sample: ProbeSample) =>
        sample.index % 2 === (cold ? 1 : 0) &&
        windows.some(
          (w) => w.storm === storm && sample.sentAt >= w.from + SETTLE_MS && sample.sentAt < w.to,
        );
      const phases = [false, true].map((cold) => ({
        cold,
        quiet: summarizeLatency(samples.filter(inPhase(false, cold))),
        loaded: summarizeLatency(samples.filter(inPhase(true, cold))),
      }));
      const failures = phases.reduce((n, p) => n + p.quiet.failed + p.loaded.failed, 0);
      const loginsPerSecond = logins / stormSeconds;
      const kind = (cold: boolean) => (cold ? 'tokens never seen before' : 'cached tokens');
      return {
        measurements: [
          ...phases.flatMap(({ cold, quiet, loaded }) => [
            {
              label: `status prober, ${kind(cold)}, quiet windows (${quiet.samples} probes)`,
              requestsPerSecond: Number.NaN,
              p50Ms: quiet.p50Ms,
              p99Ms: quiet.p99Ms,
            },
            {
              label: `status prober, ${kind(cold)}, login-storm windows (${loaded.samples} probes)`,
              requestsPerSecond: Number.NaN,
              p50Ms: loaded.p50Ms,
              p99Ms: loaded.p99Ms,
            },
          ]),
          {
            label: `POST /auth/login, the storm (${settings.loginConnections} connections)`,
            requestsPerSecond: loginsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
        ],
        checks: phases.map(({ cold, quiet, loaded }) =>
          checkTarget({
            label: `status p99 during a login storm ÷ quiet p99, ${kind(cold)}`,
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
        ),
        memory: [{ label: 'login storm', peakRssBytes: server.child.peakRssBytes() }],
        notes: [],
      };
    } finally {
      await server.stop();
    }
  },
};

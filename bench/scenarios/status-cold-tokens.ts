import type autocannon from 'autocannon';
import { statusRequests } from '../auth-requests.ts';
import { createAuthClient } from '../auth-client.ts';
import { registerBenchAccounts } from '../bench-accounts.ts';
import { ed25519VerifyMicros } from '../ed25519-verify-cost.ts';
import { formatRate } from '../format-figures.ts';
import { type CpuPerRequest, measureCpuPerRequest } from '../measure-cpu-per-request.ts';
import { mintAccessTokens } from '../mint-access-tokens.ts';
import type { Scenario } from '../scenario.ts';
import { startServer } from '../start-server.ts';
import { checkTarget } from '../target-check.ts';

const ACCOUNTS = 8;
/** The server's ACCESS_TOKEN_CACHE_SIZE default: every load below uses more tokens than this. */
const CACHE_SIZE = 10_000;
/** Requests per load and round (each load takes its turn once per round). */
const REQUESTS = 12_000;
const WARMUP_REQUESTS = 3_000;
const ROUNDS = 3;
/** Tokens timed by the bench's own verification probe, per round. */
const VERIFY_SAMPLE = 2_000;
/** No load of this scenario runs longer (a few seconds each on 2 busy cores). */
const LOAD_LIMIT_MS = 20_000;

/** Each request takes the next token of `tokens`: every token is sent once, by one connection. */
function onceEachRequests(
  tokens: readonly string[],
  cursor: { next: number },
  path = '/auth/status',
): autocannon.Request[] {
  return [
    {
      method: 'GET',
      path,
      setupRequest(request) {
        const token = tokens[cursor.next];
        if (token === undefined) throw new Error('the cold-token pool ran dry');
        cursor.next += 1;
        return { ...request, headers: { authorization: `Bearer ${token}` } };
      },
    },
  ];
}

const add = (a: CpuPerRequest | undefined, b: CpuPerRequest): CpuPerRequest =>
  a === undefined
    ? b
    : {
        ok: a.ok + b.ok,
        failed: a.failed + b.failed,
        cpuMs: a.cpuMs + b.cpuMs,
        cpuMicros: ((a.cpuMs + b.cpuMs) * 1000) / (a.ok + b.ok),
        // Rounds are of equal size: the mean of the rates.
        requestsPerSecond: (a.requestsPerSecond + b.requestsPerSecond) / 2,
      };

/**
 * Issue 14: status with tokens the server has never seen, more of them than its verified-token
 * cache holds, each used once, so every request verifies a signature. The figure is the server's
 * CPU per request (all threads, from /proc), against the bare route's plus one Ed25519
 * verification timed in this process with node:crypto, all three taking turns in each round.
 */
export const statusColdTokens: Scenario = {
  id: 'status-cold',
  title: 'GET /auth/status with tokens the server has not seen',
  async run(context) {
    const { settings } = context;
    const dataDir = context.newDataDir();
    const server = await startServer({
      dataDir,
      hashConcurrency: settings.hashConcurrency,
      profileDir: settings.profileDir,
    });
    try {
      const accounts = await registerBenchAccounts(server.baseUrl, context.runId, ACCOUNTS);
      const body = await createAuthClient(server.baseUrl).status(accounts[0]?.accessToken ?? '');
      const baseline = await context.baseline(Buffer.byteLength(body));
      const total = WARMUP_REQUESTS + ROUNDS * REQUESTS;
      const minted = accounts.map((a) =>
        mintAccessTokens(dataDir, a.accessToken, Math.ceil(total / ACCOUNTS)),
      );
      // Interleaved over the users, as a real server would see them.
      const tokens = Array.from({ length: total }, (_, i) => {
        const perUser = minted[i % ACCOUNTS]?.tokens ?? [];
        return perUser[Math.floor(i / ACCOUNTS)] ?? '';
      });
      const publicKey = minted[0]?.publicKey;
      if (publicKey === undefined) throw new Error('no tokens minted');
      context.log(
        `${total} fresh tokens (cache ${CACHE_SIZE}), each used once; bare route, cold and ` +
          `cached status in turn, ${ROUNDS} rounds of ${REQUESTS} requests`,
      );
      const cursor = { next: 0 };
      const load = (target: 'bare' | 'bare+verify' | 'cold' | 'cached', amount: number) =>
        measureCpuPerRequest({
          baseUrl: target.startsWith('bare') ? baseline.baseUrl : server.baseUrl,
          pid: target.startsWith('bare') ? baseline.child.pid : server.child.pid,
          requests:
            target === 'cached'
              ? statusRequests(accounts.map((a) => a.accessToken))
              : target === 'cold'
                ? onceEachRequests(tokens, cursor)
                : // The bare route gets headers of the same size; its tokens are not spent.
                  onceEachRequests(
                    tokens,
                    { next: 0 },
                    target === 'bare' ? '/auth/status' : '/verify/auth/status',
                  ),
          connections: settings.connections,
          amount,
          limitMs: LOAD_LIMIT_MS,
        });
      await load('bare', WARMUP_REQUESTS);
      await load('bare+verify', WARMUP_REQUESTS);
      await load('cold', WARMUP_REQUESTS);
      await load('cached', WARMUP_REQUESTS);
      let bare: CpuPerRequest | undefined;
      let bareVerify: CpuPerRequest | undefined;
      let cold: CpuPerRequest | undefined;
      let cached: CpuPerRequest | undefined;
      let verifyMicros = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        bare = add(bare, await load('bare', REQUESTS));
        bareVerify = add(bareVerify, await load('bare+verify', REQUESTS));
        cold = add(cold, await load('cold', REQUESTS));
        cached = add(cached, await load('cached', REQUESTS));
        const from = round * VERIFY_SAMPLE;
        verifyMicros += ed25519VerifyMicros(tokens.slice(from, from + VERIFY_SAMPLE), publicKey);
      }
      verifyMicros /= ROUNDS;
      if (
        bare === undefined ||
        bareVerify === undefined ||
        cold === undefined ||
        cached === undefined
      ) {
        throw new Error('no figures');
      }
      const allowance = bare.cpuMicros + verifyMicros;
      const us = (value: number) => `${value.toFixed(1)} µs`;
      return {
        measurements: [
          {
            label: `bare Fastify route (in turn with cold tokens)`,
            requestsPerSecond: bare.requestsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
          {
            label: `bare Fastify route verifying one Ed25519 signature per request`,
            requestsPerSecond: bareVerify.requestsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
          {
            label: `GET /auth/status, ${cursor.next} tokens never seen before, each once`,
            requestsPerSecond: cold.requestsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
          {
            label: `GET /auth/status, ${ACCOUNTS} cached tokens (in turn with cold tokens)`,
            requestsPerSecond: cached.requestsPerSecond,
            p50Ms: Number.NaN,
            p99Ms: Number.NaN,
          },
        ],
        checks: [
          checkTarget({
            label: 'GET /auth/status, cold tokens: server CPU ÷ (bare route + one Ed25519 verify)',
            value: cold.cpuMicros / allowance,
            unit: 'ratio',
            comparison: 'at most',
            limit: 1.25,
            detail:
              `${us(cold.cpuMicros)} of server CPU per request vs ${us(bare.cpuMicros)} (bare) + ` +
              `${us(verifyMicros)} (node:crypto verify) = ${us(allowance)}; cached tokens ` +
              `${us(cached.cpuMicros)}; the bare route verifying one signature per request ` +
              `${us(bareVerify.cpuMicros)} (cold ÷ that ${(cold.cpuMicros / bareVerify.cpuMicros).toFixed(2)}×); ` +
              `${formatRate(cold.requestsPerSecond)} vs ` +
              `${formatRate(bare.requestsPerSecond)} req/s`,
          }),
        ],
        memory: [{ label: 'status load, cold tokens', peakRssBytes: server.child.peakRssBytes() }],
        notes: [
          `Cold tokens: ${cursor.next} tokens minted by the bench with the server's own key ` +
            `(copies of real tokens with a fresh jti), more than the ${CACHE_SIZE} the server ` +
            'remembers, each sent once; CPU per request is user and system time of the whole ' +
            'server process from /proc, divided by the answers.',
        ],
      };
    } finally {
      await server.stop();
    }
  },
};

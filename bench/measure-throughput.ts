import autocannon from 'autocannon';
import { percentile } from './percentile.ts';

/** One target of a load: where, and the sequence of requests each connection loops over. */
export interface LoadSpec {
  baseUrl: string;
  /**
   * Further instances of the same service, loaded at the same time as baseUrl: the connections
   * are split evenly over all of them (one autocannon per instance), and the figures are of the
   * whole.
   */
  moreBaseUrls?: readonly string[];
  requests: autocannon.Request[];
  connections: number;
}

export interface LoadTiming {
  /** Per load, once, before the measured rounds; discarded. */
  warmupSeconds: number;
  /** Measured time per load, split evenly over the rounds. */
  durationSeconds: number;
  /** The loads take turns this many times, so a change in the machine's other work hits all. */
  rounds: number;
}

export interface Throughput {
  /** Successful (2xx) responses per second. */
  requestsPerSecond: number;
  /**
   * Latency of the successful responses, each measured on its own (autocannon's histogram has
   * whole-millisecond resolution, too coarse for a sub-millisecond route).
   */
  p50Ms: number;
  p99Ms: number;
  ok: number;
  failed: number;
  durationSeconds: number;
}

/** More failures than this share of all answers make a measurement meaningless. */
const MAX_FAILURE_SHARE = 0.01;

/**
 * Closed-loop loads with autocannon from this process: `connections` keep-alive connections, each
 * sending its next request as soon as the previous answer arrives. Each load is warmed up (JIT,
 * caches, connections), then the loads take turns for `rounds` rounds, so two loads compared
 * with each other saw the same machine. Returns one figure per spec, in order.
 */
export async function measureThroughput(
  specs: readonly LoadSpec[],
  timing: LoadTiming,
): Promise<Throughput[]> {
  if (timing.warmupSeconds > 0) {
    for (const spec of specs) await runLoad(spec, timing.warmupSeconds);
  }
  const totals = specs.map(() => ({ ok: 0, failed: 0, seconds: 0, latencies: [] as number[] }));
  const codes = specs.map(() => new Map<string, number>());
  for (let round = 0; round < timing.rounds; round += 1) {
    for (const [i, spec] of specs.entries()) {
      const run = await runLoad(spec, timing.durationSeconds / timing.rounds);
      const total = totals[i];
      if (total === undefined) continue;
      total.ok += run.ok;
      total.failed += run.failed;
      total.seconds += run.seconds;
      for (const ms of run.latencies) total.latencies.push(ms);
      for (const [code, { count }] of Object.entries(run.statusCodes)) {
        codes[i]?.set(code, (codes[i]?.get(code) ?? 0) + count);
      }
    }
  }
  return totals.map((total, i) => {
    const all = total.ok + total.failed;
    if (all === 0 || total.failed / all > MAX_FAILURE_SHARE) {
      const spec = specs[i];
      throw new Error(
        `${spec?.baseUrl}${spec?.requests[0]?.path ?? ''}: ${total.failed} of ${all} requests ` +
          `failed (status codes: ${JSON.stringify(Object.fromEntries(codes[i] ?? []))})`,
      );
    }
    total.latencies.sort((a, b) => a - b);
    return {
      requestsPerSecond: total.ok / total.seconds,
      p50Ms: percentile(total.latencies, 0.5),
      p99Ms: percentile(total.latencies, 0.99),
      ok: total.ok,
      failed: total.failed,
      durationSeconds: total.seconds,
    };
  });
}

async function runLoad(spec: LoadSpec, durationSeconds: number) {
  const baseUrls = [spec.baseUrl, ...(spec.moreBaseUrls ?? [])];
  if (baseUrls.length === 1) {
    return runOneLoad(spec.baseUrl, spec.requests, spec.connections, durationSeconds);
  }
  if (spec.connections % baseUrls.length !== 0) {
    throw new Error(`${spec.connections} connections do not split evenly over ${baseUrls.length}`);
  }
  const runs = await Promise.all(
    baseUrls.map((url) =>
      runOneLoad(url, spec.requests, spec.connections / baseUrls.length, durationSeconds),
    ),
  );
  const statusCodes: Record<string, { count: number }> = {};
  for (const run of runs) {
    for (const [code, { count }] of Object.entries(run.statusCodes)) {
      statusCodes[code] = { count: (statusCodes[code]?.count ?? 0) + count };
    }
  }
  return {
    ok: runs.reduce((sum, run) => sum + run.ok, 0),
    failed: runs.reduce((sum, run) => sum + run.failed, 0),
    // They ran side by side for the same time: the rate of the whole is the sum over this.
    seconds: runs.reduce((sum, run) => sum + run.seconds, 0) / runs.length,
    latencies: runs.flatMap((run) => run.latencies),
    statusCodes,
  };
}

async function runOneLoad(
  url: string,
  requests: autocannon.Request[],
  connections: number,
  durationSeconds: number,
) {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationSeconds,
        timeout: 10,
        requests,
      },
      (error, outcome) => (error === null ? resolve(outcome) : reject(error)),
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  return {
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    latencies,
    statusCodes: result.statusCodeStats,
  };
}

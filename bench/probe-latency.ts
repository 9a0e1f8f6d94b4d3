import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from './http-get.ts';
import { percentile } from './percentile.ts';

export interface ProbeSpec {
  url: string;
  /** Headers of each probe, cycled through (several tokens, say). */
  headerSets: Record<string, string>[];
  ratePerSecond: number;
  durationMs: number;
}

export interface ProbeSample {
  /** Which probe of the schedule this is (0, 1, …): its headers are headerSets[index % length]. */
  index: number;
  /** performance.now() when the request was sent. */
  sentAt: number;
  /** Milliseconds to the last byte of a 200 answer; undefined for anything else. */
  latencyMs: number | undefined;
}

export interface LatencySummary {
  samples: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * An open-loop prober: one request every 1/rate seconds on a fixed schedule, whether or not the
 * previous one has answered (a slow answer cannot hide the ones that would have queued behind
 * it), each timed on its own from send to the last byte of the body.
 */
export async function probeLatency(spec: ProbeSpec): Promise<ProbeSample[]> {
  const agent = new Agent({ keepAlive: true });
  try {
    // One unrecorded request opens the first connection.
    await httpGet(spec.url, { headers: spec.headerSets[0], agent, timeoutMs: 5_000 });
    const intervalMs = 1000 / spec.ratePerSecond;
    const count = Math.max(1, Math.round(spec.durationMs / intervalMs));
    const samples: Promise<ProbeSample>[] = [];
    const start = performance.now();
    for (let i = 0; i < count; i += 1) {
      const wait = start + i * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      const sentAt = performance.now();
      samples.push(
        httpGet(spec.url, {
          headers: spec.headerSets[i % spec.headerSets.length],
          agent,
          timeoutMs: 5_000,
        }).then(
          ({ status }) => ({
            index: i,
            sentAt,
            latencyMs: status === 200 ? performance.now() - sentAt : undefined,
          }),
          () => ({ index: i, sentAt, latencyMs: undefined }),
        ),
      );
    }
    return await Promise.all(samples);
  } finally {
    agent.destroy();
  }
}

/** Percentiles of the samples' latencies; failures are counted, not timed. */
export function summarizeLatency(samples: readonly ProbeSample[]): LatencySummary {
  const latencies = samples
    .map((s) => s.latencyMs)
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);
  return {
    samples: latencies.length,
    failed: samples.length - latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.at(-1) ?? Number.NaN,
  };
}

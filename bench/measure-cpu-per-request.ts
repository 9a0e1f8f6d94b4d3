import autocannon from 'autocannon';
import { processCpuMs } from './process-cpu.ts';

export interface CpuLoadSpec {
  baseUrl: string;
  /** The process serving baseUrl, whose CPU time is read before and after. */
  pid: number;
  requests: autocannon.Request[];
  connections: number;
  /** Requests to send in all. */
  amount: number;
  /** The load is stopped after this long, whatever it has sent by then. */
  limitMs: number;
}

export interface CpuPerRequest {
  /** CPU of the serving process (all threads, user and system) per answered request, in µs. */
  cpuMicros: number;
  requestsPerSecond: number;
  ok: number;
  failed: number;
  cpuMs: number;
}

/** More failures than this share of all answers make a measurement meaningless. */
const MAX_FAILURE_SHARE = 0.01;

/**
 * A closed-loop load of a fixed number of requests (autocannon `amount`), bounded in time, and
 * the serving process's CPU time it cost, per request. CPU rather than throughput: the load
 * generator shares the machine's cores, so CPU per request is the figure that does not depend on
 * how much of the machine the server got.
 */
export async function measureCpuPerRequest(spec: CpuLoadSpec): Promise<CpuPerRequest> {
  const cpuBefore = processCpuMs(spec.pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        amount: spec.amount,
        timeout: 10,
        requests: spec.requests,
      },
      (error, outcome) => {
        clearTimeout(timer);
        if (error === null) resolve(outcome);
        else reject(error);
      },
    );
    const timer = setTimeout(() => instance.stop(), spec.limitMs);
  });
  const cpuMs = processCpuMs(spec.pid) - cpuBefore;
  const ok = result['2xx'];
  const failed = result.non2xx + result.errors + result.timeouts;
  if (ok === 0 || failed / (ok + failed) > MAX_FAILURE_SHARE) {
    throw new Error(
      `${spec.baseUrl}: ${failed} of ${ok + failed} requests failed ` +
        `(status codes: ${JSON.stringify(result.statusCodeStats)})`,
    );
  }
  return {
    cpuMicros: (cpuMs * 1000) / ok,
    requestsPerSecond: ok / result.duration,
    ok,
    failed,
    cpuMs,
  };
}

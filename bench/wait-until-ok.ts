import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from './http-get.ts';
import type { NodeChild } from './node-child.ts';

/**
 * Polls `url` every `intervalMs` until it answers 200 and returns performance.now() at that
 * answer; fails after `timeoutMs`, or at once when the child exits.
 */
export async function waitUntilOk(
  child: NodeChild,
  url: string,
  options: { timeoutMs: number; intervalMs: number },
): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  while (performance.now() < deadline) {
    if (child.hasExited()) {
      throw new Error(`the process ${child.pid} exited before ${url} answered:\n${child.output()}`);
    }
    try {
      const { status } = await httpGet(url, { timeoutMs: 1_000 });
      if (status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await sleep(options.intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${options.timeoutMs} ms:\n${child.output()}`);
}

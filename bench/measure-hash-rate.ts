import { spawnNodeChild } from './node-child.ts';

const SCRIPT = new URL('./argon2-rate.ts', import.meta.url).pathname;

export interface HashRate {
  hashesPerSecond: number;
  hashes: number;
  seconds: number;
}

/** Runs argon2-rate.ts in its own process and returns what it measured. */
export async function measureHashRate(options: {
  concurrency: number;
  warmupSeconds: number;
  durationSeconds: number;
}): Promise<HashRate> {
  const child = spawnNodeChild(SCRIPT, {
    env: {},
    args: [
      String(options.concurrency),
      String(options.warmupSeconds * 1000),
      String(options.durationSeconds * 1000),
    ],
  });
  const limitMs = (options.warmupSeconds + options.durationSeconds) * 1000 + 15_000;
  const timer = setTimeout(() => void child.stop('SIGKILL'), limitMs);
  const exit = await child.exited.finally(() => clearTimeout(timer));
  const line = child.output().trim().split('\n').at(-1) ?? '';
  if (exit.code !== 0) throw new Error(`argon2-rate.ts failed (${JSON.stringify(exit)}): ${line}`);
  return JSON.parse(line) as HashRate;
}

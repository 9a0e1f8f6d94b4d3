/**
 * The ceiling for logins: how many argon2id verifications per second this machine does with the
 * server's parameters (m=19456 KiB, t=2, p=1, the OWASP floor) and the server's limit on hashes
 * running at once, alone in its own process. Prints one JSON line: { "hashesPerSecond": n, ... }.
 *
 * Arguments: CONCURRENCY WARMUP_MS DURATION_MS.
 */
import { hash, verify } from '@node-rs/argon2';

const [concurrency, warmupMs, durationMs] = process.argv.slice(2).map(Number);
if (concurrency === undefined || warmupMs === undefined || durationMs === undefined) {
  process.stderr.write('usage: argon2-rate.ts CONCURRENCY WARMUP_MS DURATION_MS\n');
  process.exit(2);
}

const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const password = 'a correct horse battery staple';
const phc = await hash(password, options);

let done = 0;
let countFrom = Number.POSITIVE_INFINITY;
const start = performance.now();
const stopAt = start + warmupMs + durationMs;

/** One of `concurrency` loops, as the server's queue keeps `concurrency` hashes running. */
async function loop(): Promise<void> {
  while (performance.now() < stopAt) {
    if (!(await verify(phc, password))) throw new Error('verify failed');
    if (performance.now() >= countFrom) done += 1;
  }
}

setTimeout(() => {
  countFrom = performance.now();
}, warmupMs);
await Promise.all(Array.from({ length: concurrency }, loop));
const seconds = (performance.now() - countFrom) / 1000;
process.stdout.write(
  `${JSON.stringify({ hashesPerSecond: done / seconds, hashes: done, seconds, concurrency })}\n`,
);

import { hash, verify } from '@node-rs/argon2';
import { AuthError, CAUSE_MESSAGES } from '../errors.ts';

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

export interface PasswordHasher {
  /** A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). */
  hash(password: string): Promise<string>;
  /** Constant-time check of `password` against a PHC string; false for a malformed hash. */
  verify(phc: string, password: string): Promise<boolean>;
  /** Same work as a real `verify`, for unknown emails (no timing oracle); always false. */
  verifyDummy(password: string): Promise<false>;
  /** True when `phc` was made with other parameters than the current ones. */
  needsRehash(phc: string): boolean;
  /** Hashes running now and waiting for a lane (the metrics' queue length). */
  load(): HashLoad;
}

export interface HashLoad {
  running: number;
  waiting: number;
}

/**
 * Argon2id through @node-rs/argon2 (argon2id is its default algorithm; the const enum is not
 * passed because type stripping cannot inline it). Parameters default to the OWASP Password
 * Storage Cheat Sheet floor: m=19 MiB, t=2, p=1.
 *
 * Hashes run on libuv's threadpool. At most `concurrency` run at once; the rest wait in a queue
 * here, on the event loop, so the threadpool always has free threads for everything else and a
 * login storm never delays token checks (see docs/decisions/0004-revocation-and-hot-path.md).
 * At most `queueMax` wait: past that, a hash is refused at once with AuthError
 * `service_unavailable` (503, Retry-After), so one client flooding password checks cannot make
 * everyone's login wait seconds behind it (v2 contract, HASH_QUEUE_MAX).
 */
export function createPasswordHasher(
  params: Argon2Params,
  concurrency: number,
  queueMax = Number.POSITIVE_INFINITY,
): PasswordHasher {
  const options = {
    memoryCost: params.memoryKib,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
  const paramString = `m=${params.memoryKib},t=${params.iterations},p=${params.parallelism}`;
  const limit = createLimiter(concurrency, queueMax);
  // A real hash of a random secret: verifying against it costs exactly what a real verify does.
  const dummy = limit(() => hash(crypto.randomUUID(), options));

  const verifyPhc = async (phc: string, password: string): Promise<boolean> => {
    try {
      return await limit(() => verify(phc, password));
    } catch (error) {
      if (error instanceof AuthError) throw error; // the queue is full: not a wrong password
      return false;
    }
  };

  return {
    hash: (password) => limit(() => hash(password, options)),
    verify: verifyPhc,
    async verifyDummy(password) {
      await verifyPhc(await dummy, password);
      return false;
    },
    needsRehash: (phc) => !phc.startsWith(`$argon2id$v=19$${paramString}$`),
    load: () => limit.load(),
  };
}

/** Seconds a client should wait when the hashing line is full: a few hashes' time. */
const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;

/**
 * A tiny semaphore: runs at most `max` tasks at once, the rest in arrival order, at most
 * `queueMax` of them waiting; past that a task is refused at once.
 */
function createLimiter(max: number, queueMax: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  const run = async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < max) running += 1;
    else if (waiting.length >= queueMax) {
      throw new AuthError('service_unavailable', {
        retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS,
        message: CAUSE_MESSAGES.hashQueueFull,
      });
    } else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
  return Object.assign(run, { load: (): HashLoad => ({ running, waiting: waiting.length }) });
}

import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setPriority } from 'node:os';

/** The name libuv gives its worker threads (/proc/<pid>/task/<tid>/comm). */
const WORKER_THREAD_NAME = 'libuv-worker';

/**
 * Gives libuv's worker threads the nice value `nice` (Linux; elsewhere nothing happens). Since
 * tokens are signed and verified on the event loop (decision 0013), that pool runs the argon2id
 * hashes and file I/O only, so a core that both a hash and a token check want goes to the check:
 * the profiles of issue 14 found the login-storm p99 of status checks set by the process waiting
 * for a core, and renicing these threads to 19 from outside cut it by a half to two thirds.
 * Lowering one's own priority needs no privilege; on Linux `setpriority` with a thread id changes
 * that thread only. Returns how many threads it lowered.
 */
export async function lowerThreadpoolPriority(nice: number): Promise<number> {
  // libuv starts every worker thread at the pool's first job: make sure there has been one.
  await stat('/');
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return 0; // no /proc: not Linux
  }
  let lowered = 0;
  for (const tid of tasks) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() !== WORKER_THREAD_NAME) {
        continue;
      }
      setPriority(Number(tid), nice);
      lowered += 1;
    } catch {
      // The thread is gone, or the system refused: hashing keeps its priority, nothing breaks.
    }
  }
  return lowered;
}

import type { Store } from '../store/store.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { Clock } from './clock.ts';

/** Every minute: pick up keys rotated by another instance, drop ended counters and sessions. */
const INTERVAL_MS = 60_000;
/**
 * Pruning runs on one instance at a time: each round claims this window with the same atomic
 * counter the throttles use (one upsert that returns the count), and only the instance that
 * counted 1 prunes. The window is a little shorter than the interval, so when the instance that
 * held it stops, another one takes it over at its next round. Throttle keys are namespaced
 * `ip:…`, `login:…` and `device:…`, so this one cannot collide with them.
 */
const PRUNE_LEASE_KEY = 'lease:housekeeping-prune';
const PRUNE_LEASE_MS = INTERVAL_MS - 5_000;

export interface Housekeeping {
  start(): void;
  stop(): void;
  /** One round; resolves with whether this instance pruned (it held the lease). */
  runOnce(): Promise<boolean>;
}

export function createHousekeeping(options: {
  store: Store;
  clock: Clock;
  accessTokens: AccessTokens;
  /** Audit events older than this are deleted. */
  auditRetentionMs: number;
  onError: (error: unknown) => void;
}): Housekeeping {
  let timer: NodeJS.Timeout | undefined;
  const runOnce = async () => {
    // Every instance reloads keys: each needs its own copy of a rotation.
    await options.accessTokens.loadKeys();
    const now = options.clock.now();
    const lease = await options.store.hitCounter(PRUNE_LEASE_KEY, PRUNE_LEASE_MS, now);
    if (lease.count !== 1) return false;
    await options.store.pruneExpired(now, options.auditRetentionMs);
    return true;
  };
  return {
    start() {
      timer = setInterval(() => void runOnce().catch(options.onError), INTERVAL_MS);
      timer.unref();
    },
    stop: () => clearInterval(timer),
    runOnce,
  };
}

import type { Store } from '../store/store.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { Clock } from './clock.ts';

/** Every minute: pick up keys rotated by another instance, drop ended counters and sessions. */
const INTERVAL_MS = 60_000;

export interface Housekeeping {
  start(): void;
  stop(): void;
  runOnce(): Promise<void>;
}

export function createHousekeeping(options: {
  store: Store;
  clock: Clock;
  accessTokens: AccessTokens;
  onError: (error: unknown) => void;
}): Housekeeping {
  let timer: NodeJS.Timeout | undefined;
  const runOnce = async () => {
    await options.accessTokens.loadKeys();
    await options.store.pruneExpired(options.clock.now());
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

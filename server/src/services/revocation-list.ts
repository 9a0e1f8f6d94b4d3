import type { Store } from '../store/store.ts';
import type { Clock } from './clock.ts';

/**
 * Each poll re-reads revocations from this far back, so a revocation committed late by another
 * instance (or stamped by a clock a little behind ours) is still seen.
 */
const POLL_OVERLAP_MS = 10_000;

export interface RevocationListOptions {
  store: Store;
  clock: Clock;
  /** How long a revoked session must stay listed: the access-token lifetime plus clock leeway. */
  retentionMs: number;
  pollMs: number;
  onPollError: (error: unknown) => void;
}

export interface RevocationList {
  isRevoked(sessionId: string): boolean;
  /** Records a revocation made by this instance: effective from the next request on. */
  add(sessionId: string, revokedAt: number): void;
  /** Loads recent revocations, then keeps polling for those made by other instances. */
  start(): Promise<void>;
  /** Reads revocations made since the last poll (exposed for tests and for start-up). */
  poll(): Promise<void>;
  stop(): void;
}

/**
 * An in-process view of revoked sessions, so checking a token never waits for the database.
 *
 * Only sessions revoked within the access-token lifetime matter: an older revocation can no longer
 * have an unexpired token (refresh refuses revoked sessions), so the set stays small. This
 * instance's own revocations apply at once; other instances' arrive with the next poll (every
 * REVOCATION_POLL_MS, 500 ms by default). See docs/decisions/0004-revocation-and-hot-path.md.
 */
export function createRevocationList(options: RevocationListOptions): RevocationList {
  const { store, clock } = options;
  const revoked = new Map<string, number>();
  let lastPollAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  const prune = (now: number) => {
    for (const [id, at] of revoked) {
      if (at + options.retentionMs < now) revoked.delete(id);
    }
  };

  const poll = async () => {
    const startedAt = clock.now();
    // Resumes from the last poll that succeeded, so revocations made during a database outage
    // (by instances that could still reach it) are read once it answers again; never further back
    // than the retention, because older revocations cannot have a live token.
    const oldest = startedAt - options.retentionMs;
    const since =
      lastPollAt === undefined ? oldest : Math.max(oldest, lastPollAt - POLL_OVERLAP_MS);
    for (const { id, revokedAt } of await store.listRevokedSince(since)) revoked.set(id, revokedAt);
    lastPollAt = startedAt;
    prune(startedAt);
  };

  const schedule = () => {
    timer = setTimeout(() => {
      poll()
        .catch(options.onPollError)
        .finally(() => {
          if (timer !== undefined) schedule();
        });
    }, options.pollMs);
    timer.unref();
  };

  return {
    isRevoked: (sessionId) => revoked.has(sessionId),
    add: (sessionId, revokedAt) => void revoked.set(sessionId, revokedAt),
    async start() {
      await poll();
      schedule();
    },
    poll,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

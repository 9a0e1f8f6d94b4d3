import { AuthError } from '../errors.ts';
import type { InstanceRecord, Revoked, Store, StoreSignal, StoreWatch } from '../store/store.ts';
import type { Clock } from './clock.ts';

export interface RevocationListOptions {
  store: Store;
  clock: Clock;
  /** How long a revoked session must stay listed: the access-token lifetime plus clock leeway. */
  retentionMs: number;
  /** How often the instance syncs when nothing signals it sooner (its heartbeat). */
  pollMs: number;
  /**
   * The bound of docs/decisions/0008-revocation-on-every-instance.md: an instance that has not
   * completed a sync for this long refuses access tokens (503) until it has, and a revocation
   * waits at most this long for an instance that does not confirm it.
   */
  failClosedMs: number;
  onPollError: (error: unknown) => void;
  /** A revocation was answered without the confirmation of these instances (gone or cut off). */
  onUnconfirmed?: (instanceIds: string[], waitedMs: number) => void;
  /**
   * A revocation that other live instances had to apply was published: how long after its commit
   * the last of them confirmed it (`confirmed`), or gave up waiting (not). Not called when no
   * other instance was waited for. The metrics' propagation delay.
   */
  onPropagated?: (waitedMs: number, confirmed: boolean) => void;
}

export interface RevocationList {
  /** This instance's id in the `instances` table. */
  readonly instanceId: string;
  /**
   * The hot-path check, from memory only: AuthError `token_revoked` for a revoked session, and
   * `service_unavailable` while this instance cannot vouch that it knows every revocation.
   */
  check(sessionId: string): void;
  /**
   * Applies revocations this instance just wrote, at once, then waits until every live instance
   * has applied them too, or `failClosedMs` passed (by then one that has not refuses tokens).
   */
  publish(revoked: Revoked, revokedAt: number): Promise<void>;
  /** Loads recent revocations, registers the instance, then keeps in sync. */
  start(): Promise<void>;
  /** Heartbeat, then reads revocations after the last applied one (exposed for tests). */
  sync(): Promise<void>;
  /** Stops syncing and removes the instance's row, so nobody waits for it. */
  stop(): Promise<void>;
}

/** When nothing signals, a waiting revocation re-reads the instances this often. */
const CONFIRM_RECHECK_MS = 50;

const monotonicNow = () => performance.now();

/**
 * An in-process view of revoked sessions, so checking a token never waits for the database, made
 * exact across instances (v2 contract, "Revocation is immediate on every instance").
 *
 * Every instance has a row in `instances` with a heartbeat and the highest `seq` of the revocation
 * log it has applied. A revocation is written with its log entry in one transaction; the revoking
 * instance applies it itself, signals the others (PostgreSQL NOTIFY; SQLite is polled every 20 ms)
 * and answers once every live instance's `applied_seq` has reached it. An instance that cannot
 * sync stops accepting tokens `failClosedMs` after the start of its last good sync, so a revoker
 * that stops waiting after `failClosedMs` never leaves a token accepted anywhere. Reasoning and
 * measurements: docs/decisions/0008-revocation-on-every-instance.md.
 */
export function createRevocationList(options: RevocationListOptions): RevocationList {
  const { store, clock, failClosedMs } = options;
  const instanceId = crypto.randomUUID();
  /** A sync slower than this does not count as good: its reads may be older than they look. */
  const syncDeadlineMs = failClosedMs / 4;
  /**
   * An instance whose heartbeat this one has seen unchanged for this long is not waited for. Safe
   * because it is past failClosedMs plus a sync's length: it already refuses tokens.
   */
  const silentAfterMs = failClosedMs + syncDeadlineMs + options.pollMs;

  const revoked = new Map<string, number>();
  const startedAt = clock.now();
  let appliedSeq = 0;
  let announcedSeq = 0;
  let heartbeatAt = 0;
  /** Monotonic start of the last sync that completed within syncDeadlineMs. */
  let lastGoodSyncAt: number | undefined;
  /** Heartbeats of other instances as this one saw them, and since when (monotonic). */
  const seen = new Map<string, { heartbeatAt: number; since: number }>();
  const waiters = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let watch: StoreWatch | undefined;
  let running = false;
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;

  const prune = (now: number) => {
    for (const [id, at] of revoked) {
      if (at + options.retentionMs < now) revoked.delete(id);
    }
  };

  const observe = (instances: InstanceRecord[]) => {
    const at = monotonicNow();
    const present = new Set<string>();
    for (const instance of instances) {
      present.add(instance.id);
      const before = seen.get(instance.id);
      if (before?.heartbeatAt !== instance.heartbeatAt) {
        seen.set(instance.id, { heartbeatAt: instance.heartbeatAt, since: at });
      }
    }
    for (const id of seen.keys()) if (!present.has(id)) seen.delete(id);
  };

  const isSilent = (instance: InstanceRecord) => {
    const seenSince = seen.get(instance.id)?.since;
    return seenSince !== undefined && monotonicNow() - seenSince > silentAfterMs;
  };

  /**
   * One sync: the heartbeat (carrying what was applied: the confirmation others wait for), then
   * the log after it. Heartbeat first matters: a heartbeat others can see is always followed by a
   * read made after it, so an instance seen alive has read everything committed before.
   */
  const syncOnce = async (): Promise<number> => {
    const begunAt = monotonicNow();
    heartbeatAt = Math.max(clock.now(), heartbeatAt + 1);
    const seq = appliedSeq;
    await store.recordInstance(
      { id: instanceId, startedAt, heartbeatAt, appliedSeq: seq },
      seq > announcedSeq,
    );
    announcedSeq = seq;
    const entries = await store.listRevocationsAfter(seq);
    for (const entry of entries) {
      revoked.set(entry.sessionId, entry.revokedAt);
      appliedSeq = Math.max(appliedSeq, entry.seq);
    }
    if (monotonicNow() - begunAt <= syncDeadlineMs) {
      lastGoodSyncAt = Math.max(lastGoodSyncAt ?? begunAt, begunAt);
    }
    return entries.length;
  };

  const runSync = async () => {
    running = true;
    try {
      // Applied something: sync again at once, so the heartbeat confirms it without waiting for
      // the next poll.
      let rounds = 0;
      while ((await syncOnce()) > 0 && ++rounds < 3);
      observe(await store.listInstances());
      prune(clock.now());
    } finally {
      running = false;
    }
  };

  /** One sync at a time; a call during one runs one more right after it (it may hold news). */
  const sync = (): Promise<void> => {
    if (!running || current === undefined) {
      current = runSync();
      return current;
    }
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return sync();
      });
    return next;
  };

  const onSignal = (signal: StoreSignal) => {
    if (signal === 'revoked') {
      sync().catch(options.onPollError);
    } else {
      for (const wake of waiters) wake();
    }
  };

  const waitForSignal = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        waiters.delete(done);
        resolve();
      };
      const timeout = setTimeout(done, ms);
      waiters.add(done);
    });

  const schedule = () => {
    timer = setTimeout(() => {
      sync()
        .catch(options.onPollError)
        .finally(() => {
          if (timer !== undefined) schedule();
        });
    }, options.pollMs);
    timer.unref();
  };

  return {
    instanceId,

    check(sessionId) {
      if (revoked.has(sessionId)) throw new AuthError('token_revoked');
      if (lastGoodSyncAt === undefined || monotonicNow() - lastGoodSyncAt > failClosedMs) {
        throw new AuthError('service_unavailable', {
          cause: new Error(
            `this instance has not synced revocations with the database for over ${failClosedMs} ms`,
          ),
        });
      }
    },

    async publish(result, revokedAt) {
      if (result.seq === null) return;
      const seq = result.seq;
      for (const id of result.sessionIds) revoked.set(id, revokedAt);
      const committedAt = monotonicNow();
      let waitedForOthers = false;
      for (;;) {
        let pending: string[] = ['(the database did not answer)'];
        try {
          const instances = await store.listInstances();
          observe(instances);
          waitedForOthers ||= instances.some((i) => i.id !== instanceId && !isSilent(i));
          pending = instances
            .filter((i) => i.id !== instanceId && i.appliedSeq < seq && !isSilent(i))
            .map((i) => i.id);
        } catch {
          // Keep waiting: the bound below still holds.
        }
        if (pending.length === 0) {
          if (waitedForOthers) options.onPropagated?.(monotonicNow() - committedAt, true);
          return;
        }
        const waited = monotonicNow() - committedAt;
        if (waited >= failClosedMs) {
          options.onUnconfirmed?.(pending, Math.round(waited));
          options.onPropagated?.(waited, false);
          return;
        }
        await waitForSignal(Math.min(CONFIRM_RECHECK_MS, failClosedMs - waited));
      }
    },

    async start() {
      watch = await store.watch(onSignal);
      // Everything the log holds up to `seq` is in the sessions table by the time it is read.
      const seq = await store.lastRevocationSeq();
      const now = clock.now();
      for (const { id, revokedAt } of await store.listRevokedSince(now - options.retentionMs)) {
        revoked.set(id, revokedAt);
      }
      appliedSeq = seq;
      announcedSeq = seq;
      await sync();
      schedule();
    },

    sync,

    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await watch?.close();
      watch = undefined;
      await current?.catch(() => undefined);
      await store.removeInstance(instanceId).catch(() => undefined);
    },
  };
}

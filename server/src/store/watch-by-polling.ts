import { type Kysely, sql } from 'kysely';
import type { Database } from './database.ts';
import type { Store, StoreSignal, StoreWatch } from './store.ts';

/**
 * How often the tables are looked at. SQLite reads them from the local file in microseconds, so
 * a short interval costs little and keeps a logout's wait for other processes short.
 */
const POLL_MS = 20;

/**
 * Signals for an engine with no push (SQLite): reads the log's highest `seq` and the instances'
 * applied numbers every POLL_MS and signals when either changed. Errors (a busy database) are
 * ignored: signals are only a hint, and the caller's own sync reports failures.
 */
export function watchByPolling(db: Kysely<Database>): Store['watch'] {
  return (onSignal: (signal: StoreSignal) => void): Promise<StoreWatch> => {
    let last: { seq: number; applied: number } | undefined;
    let busy = false;
    const look = async () => {
      if (busy) return;
      busy = true;
      try {
        const { rows } = await sql<{ seq: number | null; applied: number | null }>`
          select (select max(seq) from revocations) as seq,
                 (select sum(applied_seq) from instances) as applied
        `.execute(db);
        const now = { seq: Number(rows[0]?.seq ?? 0), applied: Number(rows[0]?.applied ?? 0) };
        if (last !== undefined) {
          if (now.seq !== last.seq) onSignal('revoked');
          if (now.applied !== last.applied) onSignal('applied');
        }
        last = now;
      } catch {
        // A hint missed; the next look or the caller's own sync catches up.
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void look(), POLL_MS);
    timer.unref();
    return Promise.resolve({
      close() {
        clearInterval(timer);
        return Promise.resolve();
      },
    });
  };
}

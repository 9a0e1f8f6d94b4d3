import pg from 'pg';
import type { Store, StoreSignal, StoreWatch } from './store.ts';

/** PostgreSQL channels: a revocation was logged; an instance applied revocations. */
export const REVOKED_CHANNEL = 'latchkey_revoked';
export const APPLIED_CHANNEL = 'latchkey_applied';

const CHANNEL_SIGNALS: Readonly<Record<string, StoreSignal>> = {
  [REVOKED_CHANNEL]: 'revoked',
  [APPLIED_CHANNEL]: 'applied',
};

/** Waits between reconnect attempts of the listening connection, longest last. */
const RECONNECT_DELAYS_MS = [100, 250, 500, 1000, 2000];

export interface WatchPostgresOptions {
  connectionString: string;
  connectTimeoutMs: number;
}

/**
 * Signals pushed by PostgreSQL: LISTEN on a connection of its own (a pooled connection would be
 * handed to other queries). NOTIFY is sent inside the writing transaction, so it arrives only
 * once the change is committed and readable. Notifications sent while this connection is down
 * are lost: it reconnects with back-off and then signals both kinds, so the caller reads what it
 * missed (the log's `seq` makes that exact; see services/revocation-list.ts).
 */
export function watchPostgres(options: WatchPostgresOptions): Store['watch'] {
  return async (onSignal: (signal: StoreSignal) => void): Promise<StoreWatch> => {
    let closed = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let failures = 0;

    const connect = async (): Promise<void> => {
      const next = new pg.Client({
        connectionString: options.connectionString,
        connectionTimeoutMillis: options.connectTimeoutMs,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        application_name: 'latchkey-watch',
      });
      let lost = false;
      const reconnect = () => {
        if (lost) return;
        lost = true;
        next.removeAllListeners('notification');
        void next.end().catch(() => undefined);
        if (client === next) client = undefined;
        if (closed) return;
        const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)];
        failures += 1;
        retry = setTimeout(() => void connect().catch(() => undefined), delay);
        retry.unref();
      };
      next.on('error', reconnect);
      next.on('end', reconnect);
      next.on('notification', (message) => {
        const signal = CHANNEL_SIGNALS[message.channel];
        if (signal !== undefined) onSignal(signal);
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${REVOKED_CHANNEL}; LISTEN ${APPLIED_CHANNEL}`);
      } catch (error) {
        reconnect();
        throw error;
      }
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      failures = 0;
      // Whatever was sent before this connection listened is read now.
      onSignal('revoked');
      onSignal('applied');
    };

    // The first connection may fail (the database is down at start-up): retrying continues in the
    // background, and the caller's own sync covers the gap.
    await connect().catch(() => undefined);
    return {
      async close() {
        closed = true;
        clearTimeout(retry);
        const current = client;
        client = undefined;
        await current?.end().catch(() => undefined);
      },
    };
  };
}

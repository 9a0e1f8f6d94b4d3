import type { Config } from '../config.ts';
import { openSqliteStore } from './open-sqlite-store.ts';
import type { Store } from './store.ts';

/** Opens the configured database, migrated to the latest schema. */
export async function openStore(config: Readonly<Config>): Promise<Store> {
  if (config.databaseUrl !== undefined) {
    throw new Error('PostgreSQL support is not available yet: unset DATABASE_URL to use SQLite.');
  }
  return openSqliteStore({ dataDir: config.dataDir, busyTimeoutMs: config.databaseTimeoutMs });
}

import type { Config } from '../config.ts';
import { openPostgresStore } from './open-postgres-store.ts';
import { openSqliteStore } from './open-sqlite-store.ts';
import type { Store } from './store.ts';

/** Opens the configured database (PostgreSQL when DATABASE_URL is set), migrated to the latest schema. */
export async function openStore(config: Readonly<Config>): Promise<Store> {
  if (config.databaseUrl !== undefined) {
    return openPostgresStore({
      connectionString: config.databaseUrl,
      poolSize: config.databasePoolSize,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
    });
  }
  return openSqliteStore({
    dataDir: config.dataDir,
    busyTimeoutMs: config.databaseStatementTimeoutMs,
  });
}

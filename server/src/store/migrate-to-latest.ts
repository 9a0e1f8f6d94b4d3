import type { Kysely } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import { initial } from './migrations/0001-initial.ts';
import { instancesAndRevocationLog } from './migrations/0002-instances-and-revocation-log.ts';
import { refreshSuccessor } from './migrations/0003-refresh-successor.ts';
import { emailFlows } from './migrations/0004-email-flows.ts';
import { operators } from './migrations/0005-operators.ts';
import { secondFactors } from './migrations/0006-second-factors.ts';

/** Every migration, in order. Names are stable: they are recorded in the database. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-instances-and-revocation-log': instancesAndRevocationLog,
  '0003-refresh-successor': refreshSuccessor,
  '0004-email-flows': emailFlows,
  '0005-operators': operators,
  '0006-second-factors': secondFactors,
};

/**
 * Applies every pending migration. Kysely's migrator takes a lock first (an advisory lock on
 * PostgreSQL; SQLite serialises writers itself), so instances starting together are safe.
 * Returns the names of the migrations it applied.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableName: 'latchkey_migrations',
    migrationLockTableName: 'latchkey_migrations_lock',
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new Error('Database migration failed', { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

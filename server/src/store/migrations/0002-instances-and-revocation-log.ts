import { type Kysely, PostgresAdapter } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What immediate revocation across instances needs (docs/decisions/0008-revocation-on-every-instance.md):
 *
 * - `revocations`: an append-only log of revoked sessions with a monotonic `seq`, so an instance
 *   reads "everything after the last one I applied" and catches up after a reconnect. SQLite's
 *   AUTOINCREMENT never reuses a number, even after old rows are pruned; PostgreSQL's bigserial
 *   neither (writers take a lock, so numbers also commit in order: sql-store.ts).
 * - `instances`: every running server, its last heartbeat and the last revocation it applied; a
 *   revoking instance answers once every live one has caught up.
 *
 * Also the indexes housekeeping scans by (expiry columns of sessions and refresh tokens).
 */
export const instancesAndRevocationLog: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await db.schema
      .createTable('revocations')
      .addColumn('seq', postgres ? 'bigserial' : 'integer', (c) =>
        postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('revocations_revoked_at')
      .on('revocations')
      .column('revoked_at')
      .execute();

    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .addColumn('applied_seq', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createIndex('refresh_tokens_expires_at')
      .on('refresh_tokens')
      .column('expires_at')
      .execute();
    await db.schema
      .createIndex('sessions_expires_at')
      .on('sessions')
      .column('expires_at')
      .execute();
    await db.schema
      .createIndex('sessions_idle_expires_at')
      .on('sessions')
      .column('idle_expires_at')
      .execute();
  },
};

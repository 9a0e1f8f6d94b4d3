import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What operators need (v2 contract, "accounts for operators"):
 *
 * - `users.disabled_at` (null while the account may sign in) and `users.last_login_at`.
 * - `audit_events`: the security events, each written in the transaction of the change it
 *   describes (store.ts). No foreign key to `users`: a deleted account's history stays. Never a
 *   password, token, cookie or link; `detail` is a small JSON object of ids, reasons and counts.
 *   Indexed for the newest-first lists (per user, per type) and for the retention prune.
 */
export const operators: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
    await db.schema.alterTable('users').addColumn('last_login_at', 'bigint').execute();

    await db.schema
      .createTable('audit_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('actor_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('audit_events_created_at')
      .on('audit_events')
      .columns(['created_at', 'id'])
      .execute();
    await db.schema
      .createIndex('audit_events_user_created_at')
      .on('audit_events')
      .columns(['user_id', 'created_at', 'id'])
      .execute();
    await db.schema
      .createIndex('audit_events_type_created_at')
      .on('audit_events')
      .columns(['type', 'created_at', 'id'])
      .execute();
  },
};

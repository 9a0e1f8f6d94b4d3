import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Second factors (issue 13):
 *
 * - `totp_factors`: one per account. `secret` is sealed with KEY_ENCRYPTION_KEY when one is set;
 *   `confirmed_at` null while enrolment waits for its first code; `last_step` is the last
 *   accepted time step (RFC 6238 §5.2: a code is accepted once), advanced by a compare-and-set.
 * - `recovery_codes`: SHA-256 of each code (50 random bits each: a fast hash is enough for a
 *   random secret), spent by one conditional UPDATE.
 * - `mfa_challenges`: the short, single-use state between the right password and the second
 *   factor; only its SHA-256 is stored.
 */
export const secondFactors: Migration = {
  async up(db: Kysely<unknown>) {
    // How each session signed in (RFC 8176 amr), carried into every access token it gets.
    await db.schema
      .alterTable('sessions')
      .addColumn('amr', 'text', (c) => c.notNull().defaultTo('pwd'))
      .execute();
    await db.schema
      .createTable('totp_factors')
      .addColumn('user_id', 'text', (c) =>
        c.primaryKey().references('users.id').onDelete('cascade'),
      )
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('confirmed_at', 'bigint')
      .addColumn('last_step', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('recovery_codes')
      .addColumn('code_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('recovery_codes_user_id')
      .on('recovery_codes')
      .column('user_id')
      .execute();
    await db.schema
      .createTable('mfa_challenges')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
  },
};

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `refresh_tokens.successor`: the token that replaced this one, sealed with a key only this
 * token's holder can derive (services/successor-seal.ts), so concurrent refreshes with one cookie
 * all get the same new cookie and a session never forks into two chains. Null while current, and
 * for tokens rotated before this migration.
 */
export const refreshSuccessor: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('refresh_tokens').addColumn('successor', 'text').execute();
  },
};

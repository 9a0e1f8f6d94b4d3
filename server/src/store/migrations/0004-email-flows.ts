import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What the email flows need (v2 contract, "email verification, password reset, email change"):
 *
 * - `users.email_verified_at`: when the address was verified; null while it is not.
 * - `email_tokens`: one-time link tokens, stored as their SHA-256 only, bound to a purpose, an
 *   account and the address the link was sent to; `used_at` is set by the one conditional UPDATE
 *   that spends a token (or by a newer token of the same purpose, which retires older ones).
 * - `outbox`: mails recorded in the same transaction as the change they tell about, delivered
 *   in the background (services/mail-sender.ts). The body is sealed with KEY_ENCRYPTION_KEY when
 *   one is set, and blanked once sent: a link lives in the database only until it is delivered.
 * - `leases`: a named lease with its holder, so one instance at a time sends mail.
 */
export const emailFlows: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('users').addColumn('email_verified_at', 'bigint').execute();

    await db.schema
      .createTable('email_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('email_tokens_user_purpose')
      .on('email_tokens')
      .columns(['user_id', 'purpose'])
      .execute();
    await db.schema
      .createIndex('email_tokens_expires_at')
      .on('email_tokens')
      .column('expires_at')
      .execute();

    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('recipient', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('claimed_until', 'bigint')
      .addColumn('sent_at', 'bigint')
      .addColumn('failed_at', 'bigint')
      .addColumn('last_error', 'text')
      .execute();
    await db.schema
      .createIndex('outbox_next_attempt_at')
      .on('outbox')
      .column('next_attempt_at')
      .execute();

    await db.schema
      .createTable('leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

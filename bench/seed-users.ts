import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface SeedSpec {
  /** The server's DATA_DIR; the server has created its schema there and stopped. */
  dataDir: string;
  /** Email of an account registered through the API; its password hash is given to everyone. */
  templateEmail: string;
  /** Indexes of the accounts to add (the template's own index excluded). */
  from: number;
  to: number;
  emailOf(index: number): string;
}

/**
 * Bulk-inserts users straight into the SQLite file, in one transaction through one prepared
 * statement. Every user gets the template account's argon2id hash (one real hash, made by the
 * server with its own parameters), so any of them can log in with the benchmark password.
 * Returns the size of the database file afterwards, in bytes.
 */
export function seedUsers(spec: SeedSpec): number {
  const file = join(spec.dataDir, 'latchkey.sqlite');
  const database = new DatabaseSync(file);
  try {
    // A throw-away database: no fsync while seeding; a large cache keeps the indexes in memory.
    database.exec('PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;');
    const template = database
      .prepare('SELECT password_hash, created_at FROM users WHERE email = ?')
      .get(spec.templateEmail) as { password_hash: string; created_at: number } | undefined;
    if (template === undefined) throw new Error(`no user ${spec.templateEmail} to copy`);
    const insert = database.prepare(
      'INSERT INTO users (id, email, password_hash, admin, created_at) VALUES (?, ?, ?, 0, ?)',
    );
    database.exec('BEGIN');
    try {
      for (let i = spec.from; i < spec.to; i += 1) {
        insert.run(
          crypto.randomUUID(),
          spec.emailOf(i),
          template.password_hash,
          template.created_at,
        );
      }
      database.exec('COMMIT');
    } catch (error) {
      database.exec('ROLLBACK');
      throw error;
    }
    database.exec('PRAGMA wal_checkpoint(TRUNCATE);');
  } finally {
    database.close();
  }
  return statSync(file).size;
}

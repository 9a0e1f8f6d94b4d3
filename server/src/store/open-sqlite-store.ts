import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely';
import type { Database } from './database.ts';
import { migrateToLatest } from './migrate-to-latest.ts';
import { createSqlStore } from './sql-store.ts';
import type { Store } from './store.ts';

export interface SqliteOptions {
  /** A directory (the file is `latchkey.sqlite` inside it), or ':memory:' for tests. */
  dataDir: string;
  busyTimeoutMs: number;
}

/**
 * Adapts node:sqlite (built into Node 24) to the database object Kysely's SqliteDialect expects:
 * statements with `reader`, `all`, `run` and `iterate`.
 */
function adaptNodeSqlite(database: DatabaseSync): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare(sqlText) {
      const statement = database.prepare(sqlText);
      const args = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
      return {
        reader: statement.columns().length > 0,
        all: (parameters) => statement.all(...args(parameters)),
        run: (parameters) => statement.run(...args(parameters)),
        iterate: (parameters) => statement.iterate(...args(parameters)),
      };
    },
  };
}

/** Opens (creating if needed) the embedded SQLite database, migrates it and returns the Store. */
export async function openSqliteStore(options: SqliteOptions): Promise<Store> {
  let path = ':memory:';
  if (options.dataDir !== ':memory:') {
    mkdirSync(options.dataDir, { recursive: true });
    path = join(options.dataDir, 'latchkey.sqlite');
  }
  const database = new DatabaseSync(path);
  // WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every committed
  // transaction across a process crash or kill (only an OS crash or power cut may lose the last
  // ones; see docs/decisions/0002-query-layer.md). busy_timeout: wait for another process's write
  // lock instead of failing at once.
  database.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)};
  `);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: adaptNodeSqlite(database) }),
  });
  await migrateToLatest(db as unknown as Kysely<unknown>);
  return createSqlStore(db);
}

import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely';
import type { Database } from './database.ts';
import { mapUnavailableErrors } from './map-unavailable-errors.ts';
import { migrateToLatest } from './migrate-to-latest.ts';
import { createSqlStore } from './sql-store.ts';
import type { Store } from './store.ts';

export interface SqliteOptions {
  /** A directory (the file is `latchkey.sqlite` inside it), or ':memory:' for tests. */
  dataDir: string;
  /** How long a statement waits for another process's write lock before failing. */
  busyTimeoutMs: number;
}

/** Prepared statements kept per connection; the store's queries are a few dozen distinct texts. */
const STATEMENT_CACHE_SIZE = 200;

/**
 * Adapts node:sqlite (built into Node 24) to the database object Kysely's SqliteDialect expects:
 * statements with `reader`, `all`, `run` and `iterate`.
 *
 * Kysely asks for a new prepared statement on every query, and preparing (parsing and planning
 * the SQL) cost more than running it: 12% of a refresh's profile against 10% for running the
 * statements (docs/benchmarks.md). Statements are therefore kept by SQL text and reused;
 * node:sqlite resets a statement before each `all` or `run`, and both finish before returning,
 * so reuse is safe. `iterate` is lazy, so it gets a statement of its own.
 */
function adaptNodeSqlite(database: DatabaseSync): SqliteDatabase {
  const statements = new Map<string, { statement: StatementSync; reader: boolean }>();
  const args = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
  return {
    close: () => database.close(),
    prepare(sqlText) {
      let cached = statements.get(sqlText);
      if (cached === undefined) {
        const statement = database.prepare(sqlText);
        cached = { statement, reader: statement.columns().length > 0 };
        if (statements.size >= STATEMENT_CACHE_SIZE) {
          const oldest = statements.keys().next();
          if (!oldest.done) statements.delete(oldest.value);
        }
        statements.set(sqlText, cached);
      }
      const { statement, reader } = cached;
      return {
        reader,
        all: (parameters) => statement.all(...args(parameters)),
        run: (parameters) => statement.run(...args(parameters)),
        iterate: (parameters) => database.prepare(sqlText).iterate(...args(parameters)),
      };
    },
  };
}

/** SQLITE_BUSY and SQLITE_LOCKED (primary result codes 5 and 6): the busy timeout ran out. */
function isSqliteBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | undefined)?.errcode;
  return typeof errcode === 'number' && [5, 6].includes(errcode & 0xff);
}

/**
 * The database holds the private signing keys and every password hash: only the server's own
 * user may read it (v2 contract; a world-readable file let another local user mint tokens in
 * review). DATA_DIR is created 0700; the database file is created 0600 before SQLite opens it, so
 * its -wal and -shm files, which SQLite creates with the main file's permissions, are 0600 too.
 * An existing file is narrowed to 0600 (an older version created it 0644); an existing DATA_DIR
 * is left as the operator made it.
 */
function keepPrivate(dataDir: string, databasePath: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(databasePath)) closeSync(openSync(databasePath, 'a', 0o600));
  for (const file of [databasePath, `${databasePath}-wal`, `${databasePath}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** Opens (creating if needed) the embedded SQLite database, migrates it and returns the Store. */
export async function openSqliteStore(options: SqliteOptions): Promise<Store> {
  let path = ':memory:';
  if (options.dataDir !== ':memory:') {
    path = join(options.dataDir, 'latchkey.sqlite');
    keepPrivate(options.dataDir, path);
  }
  const database = new DatabaseSync(path);
  // busy_timeout first: wait for another process's write lock instead of failing at once (even
  // switching to WAL needs it when several processes open a new file together). WAL: readers
  // never block the writer. synchronous=NORMAL in WAL mode keeps every committed transaction
  // across a process crash or kill (only an OS crash or power cut may lose the last ones; see
  // docs/decisions/0002-query-layer.md).
  database.exec(`
    PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)};
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON;
  `);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: adaptNodeSqlite(database) }),
  });
  // Kysely's migrator takes no lock on SQLite and runs without a transaction there, so two
  // processes opening a new file together would both try to create the tables. One IMMEDIATE
  // transaction around the whole migration takes the write lock first: one migrator at a time,
  // and a migration applies completely or not at all (SQLite's DDL is transactional).
  database.exec('BEGIN IMMEDIATE');
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>);
    database.exec('COMMIT');
  } catch (error) {
    database.exec('ROLLBACK');
    database.close();
    throw error;
  }
  return mapUnavailableErrors(createSqlStore(db), { isUnavailable: isSqliteBusy });
}

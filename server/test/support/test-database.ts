/**
 * The database the tests run on: SQLite by default, PostgreSQL when LATCHKEY_TEST_DATABASE_URL is
 * set (`npm test` sets it for its second server step; see scripts/throwaway-postgres.ts). Every
 * test database is fresh: on PostgreSQL a new database owned by the URL's role, created through
 * LATCHKEY_TEST_ADMIN_DATABASE_URL (a role allowed to create databases; the test role by default)
 * and dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { openSqliteStore } from '../../src/store/open-sqlite-store.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDataDir } from './server-process.ts';

const env = (name: string) => (process.env[name] === '' ? undefined : process.env[name]);
const POSTGRES_URL = env('LATCHKEY_TEST_DATABASE_URL');
const ADMIN_URL = env('LATCHKEY_TEST_ADMIN_DATABASE_URL') ?? POSTGRES_URL;

export type Engine = 'sqlite' | 'postgresql';
export const testEngine: Engine = POSTGRES_URL === undefined ? 'sqlite' : 'postgresql';
/** The PostgreSQL URL of the test role (its database part is replaced per test database). */
export const testPostgresUrl = POSTGRES_URL;

/** Settings every test store opens with: small pools, and the default timeouts. */
const STORE_ENV = { DATABASE_POOL_SIZE: '4' };

export interface TestDatabase {
  /** Environment that points a server process, the CLI or loadConfig at this database. */
  env: Record<string, string>;
  /** Opens a store on it as a server instance would: through openStore, migrating it. */
  open(extraEnv?: Record<string, string>): Promise<Store>;
  /**
   * From another connection, takes a lock that holds off every write to the users table, as a
   * long migration or a stuck transaction would; the returned function releases it.
   */
  lockUsersTable(): Promise<() => Promise<void>>;
  /**
   * Deletes it: SQLite at once; PostgreSQL when the test process is done (connections still open
   * to it then are cut).
   */
  remove(): Promise<void>;
}

let adminPool: pg.Pool | undefined;
/** One small pool per test process for CREATE/DROP DATABASE; it never keeps the process alive. */
function admin(): pg.Pool {
  if (ADMIN_URL === undefined) throw new Error('LATCHKEY_TEST_DATABASE_URL is not set');
  if (adminPool === undefined) {
    adminPool = new pg.Pool({ connectionString: ADMIN_URL, max: 4, allowExitOnIdle: true });
    // Idle connections die when a test restarts the database; the next query reconnects.
    adminPool.on('error', () => undefined);
  }
  return adminPool;
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Databases to drop when the test process is done. DROP DATABASE forces a checkpoint (about
 * 100 ms); done all together at the end, those checkpoints overlap instead of adding up.
 */
const toDrop = new Set<string>();
function dropAtExit(name: string): void {
  if (toDrop.size === 0) {
    process.once('beforeExit', () => {
      const names = [...toDrop];
      toDrop.clear();
      void Promise.all(
        names.map((n) =>
          admin().query(`DROP DATABASE IF EXISTS ${quoteIdentifier(n)} WITH (FORCE)`),
        ),
      );
    });
  }
  toDrop.add(name);
}

/** A new PostgreSQL database owned by the test role, empty or cloned from `template`. */
async function createPostgresDatabase(
  postgresUrl: string,
  template?: string,
): Promise<TestDatabase> {
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(postgresUrl);
  const owner = decodeURIComponent(url.username);
  const from = template === undefined ? '' : ` TEMPLATE ${quoteIdentifier(template)}`;
  await admin().query(
    `CREATE DATABASE ${quoteIdentifier(name)} OWNER ${quoteIdentifier(owner)}${from}`,
  );
  url.pathname = `/${name}`;
  const dbEnv = { DATABASE_URL: url.href };
  return {
    env: dbEnv,
    open: (extraEnv = {}) => openStore(loadConfig({ ...dbEnv, ...STORE_ENV, ...extraEnv })),
    async lockUsersTable() {
      const holder = new pg.Client({ connectionString: url.href });
      holder.on('error', () => undefined);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      return async () => {
        await holder.query('ROLLBACK');
        await holder.end();
      };
    },
    remove: async () => dropAtExit(name),
  };
}

/** A fresh, empty database, not migrated yet. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (POSTGRES_URL !== undefined) return createPostgresDatabase(POSTGRES_URL);
  const data = tempDataDir();
  const dbEnv = { DATA_DIR: data.dir };
  return {
    env: dbEnv,
    open: (extraEnv = {}) => openStore(loadConfig({ ...dbEnv, ...extraEnv })),
    async lockUsersTable() {
      // SQLite locks the whole file: a write transaction holds off every other writer.
      const holder = new DatabaseSync(join(data.dir, 'latchkey.sqlite'));
      holder.exec('BEGIN EXCLUSIVE');
      return async () => {
        holder.exec('ROLLBACK');
        holder.close();
      };
    },
    remove: async () => data.remove(),
  };
}

/**
 * One migrated database per test process that fresh test databases are cloned from, so each
 * test does not pay for the migration (the migration tests start from empty databases).
 */
let migratedTemplate: Promise<string> | undefined;
function templateDatabase(postgresUrl: string): Promise<string> {
  migratedTemplate ??= (async () => {
    const database = await createPostgresDatabase(postgresUrl);
    await (await database.open()).close();
    await database.remove();
    return new URL(database.env['DATABASE_URL'] ?? '').pathname.slice(1);
  })();
  return migratedTemplate;
}

/**
 * A store on a fresh database of the selected engine; closing it deletes the database. SQLite
 * runs in memory, which is what most tests want: fast and private.
 */
export async function openTestStore(): Promise<Store> {
  if (POSTGRES_URL === undefined) {
    return openSqliteStore({ dataDir: ':memory:', busyTimeoutMs: 5000 });
  }
  const database = await createPostgresDatabase(POSTGRES_URL, await templateDatabase(POSTGRES_URL));
  const store = await database.open();
  return {
    ...store,
    async close() {
      await store.close();
      await database.remove();
    },
  };
}

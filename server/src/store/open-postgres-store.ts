import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';
import { mapUnavailableErrors } from './map-unavailable-errors.ts';
import { migrateToLatest } from './migrate-to-latest.ts';
import { createSqlStore } from './sql-store.ts';
import type { Store } from './store.ts';
import { APPLIED_CHANNEL, REVOKED_CHANNEL, watchPostgres } from './watch-postgres.ts';

export interface PostgresOptions {
  /** A postgres:// URL; its user needs no more than the rights of the database's owner. */
  connectionString: string;
  poolSize: number;
  /** Longest a statement may run (server side) or wait for its answer (client side). */
  statementTimeoutMs: number;
  /** Longest wait for a connection: opening a new one, or a free one from a full pool. */
  connectTimeoutMs: number;
}

/** PostgreSQL's type oid of int8 (bigint), the type of every time column. */
const INT8_OID = 20;

/**
 * Type parsers for this pool only: int8 comes back as a JS number instead of pg's default string.
 * Every int8 here is an epoch-millisecond time, far below 2^53; a larger value fails loudly
 * rather than losing precision.
 */
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID && format !== 'binary') {
      return (value: string) => {
        const parsed = Number(value);
        if (!Number.isSafeInteger(parsed))
          throw new RangeError(`int8 ${value} is not a safe JS integer`);
        return parsed;
      };
    }
    // pg's own parser for every other type. Its typings key it by pg-types' TypeId enum, but
    // any OID the server sends is valid there (unknown ones get the text parser).
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

/**
 * SQLSTATE classes that mean "the database cannot answer now" rather than "this query is wrong":
 * connection exception (08), insufficient resources (53: too many connections, disk full) and
 * operator intervention (57: shutdown, starting up, statement timeout, cancel).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57)/;
/** Errors from pg and pg-pool that carry no SQLSTATE: the link died or a client-side timeout hit. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed)/;
/** Node socket errors of a refused, reset or unreachable connection. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function isPostgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))
  ) {
    return true;
  }
  if (UNAVAILABLE_MESSAGE.test(error.message)) return true;
  // A connect that fails on every address (IPv4 and IPv6) reports an AggregateError.
  return error instanceof AggregateError && error.errors.some(isPostgresUnavailable);
}

/**
 * Opens a pool to PostgreSQL, migrates the database (Kysely's migrator holds an advisory lock, so
 * instances starting together are safe) and returns the Store. Only the rights of the database's
 * owner are needed: no superuser, no extension.
 */
export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // The server cancels a statement that runs too long (lock waits included) and ends a
    // transaction left open by a stalled instance, so it cannot hold row locks for ever.
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    // The client gives up too when no answer comes back at all (a lost link, a frozen server).
    query_timeout: options.statementTimeoutMs,
    // TCP keepalive probes find a connection whose peer vanished without closing it.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'latchkey',
    types: typeParsers,
  });
  // A connection that dies while idle in the pool (a database restart) is dropped by the pool and
  // reported here; without a listener the event would crash the process. A connection that dies
  // while checked out fails its query instead, but may also emit 'error' between two statements
  // of a transaction. The next query opens a new connection, so nothing else is needed.
  const ignoreLostConnection = () => undefined;
  pool.on('error', ignoreLostConnection);
  pool.on('connect', (client) => client.on('error', ignoreLostConnection));

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const store = createSqlStore(db, {
    // Transaction-scoped: released at commit or rollback, even if the instance dies.
    serialiseKeyBootstrap: async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('latchkey.signing_keys'))`.execute(trx);
    },
    serialiseRevocations: async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('latchkey.revocations')), pg_notify(${REVOKED_CHANNEL}, '')`.execute(
        trx,
      );
    },
    announceApplied: async (trx) => {
      await sql`select pg_notify(${APPLIED_CHANNEL}, '')`.execute(trx);
    },
    watch: watchPostgres({
      connectionString: options.connectionString,
      connectTimeoutMs: options.connectTimeoutMs,
    }),
  });
  return mapUnavailableErrors(store, {
    isUnavailable: isPostgresUnavailable,
    // A call may wait for a connection, then run its statements (a transaction's rollback after a
    // timed-out statement would be one more): however it goes, it answers within this bound.
    deadlineMs: options.connectTimeoutMs + options.statementTimeoutMs,
  });
}

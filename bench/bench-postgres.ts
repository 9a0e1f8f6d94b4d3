/**
 * The PostgreSQL the PostgreSQL scenarios run on: the database at DATABASE_URL when it is set,
 * else a throwaway cluster of the installed PostgreSQL (scripts/throwaway-postgres.ts, the one
 * `npm test` uses), started on first use and removed by the caller at the end of the run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import {
  removeThrowawayPostgres,
  removeThrowawayPostgresSync,
  startThrowawayPostgres,
  TEST_ROLE,
  type ThrowawayPostgres,
} from '../scripts/throwaway-postgres.ts';

export interface BenchPostgres {
  /** Where the databases are, for the log and the report. */
  description: string;
  /** The URL of a fresh, empty database that the servers' role owns. */
  newDatabase(): Promise<string>;
  /** Stops and deletes a throwaway cluster; nothing for DATABASE_URL. */
  remove(): Promise<void>;
  /** The same, synchronously: for a signal handler or the watchdog, just before exiting. */
  removeSync(): void;
}

/**
 * DATABASE_URL's database, shared by the scenarios: their accounts differ by run id, and its
 * owner may not be allowed to create databases.
 */
export function externalBenchPostgres(databaseUrl: string): BenchPostgres {
  return {
    description: 'the database at DATABASE_URL',
    newDatabase: async () => databaseUrl,
    remove: async () => undefined,
    removeSync: () => undefined,
  };
}

/** "PostgreSQL 15.14", from the binaries (--version needs no cluster and may run as root). */
function postgresVersion(binDir: string): string {
  const out = spawnSync(join(binDir, 'postgres'), ['--version'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const version = /(\d+(?:\.\d+)*)/.exec(out.stdout ?? '')?.[1];
  return version === undefined ? 'PostgreSQL' : `PostgreSQL ${version}`;
}

/** A fresh throwaway cluster on a loopback port; each scenario gets its own database in it. */
export async function startBenchPostgres(binDir: string): Promise<BenchPostgres> {
  const cluster: ThrowawayPostgres = await startThrowawayPostgres(binDir);
  const adminUrl = cluster.env['LATCHKEY_TEST_ADMIN_DATABASE_URL'];
  const serverUrl = cluster.env['LATCHKEY_TEST_DATABASE_URL'];
  if (adminUrl === undefined || serverUrl === undefined) {
    await removeThrowawayPostgres(cluster);
    throw new Error('scripts/throwaway-postgres.ts no longer hands out its URLs');
  }
  let removal: Promise<void> | undefined;
  return {
    description:
      `a throwaway ${postgresVersion(binDir)} cluster on this machine ` +
      `(scripts/throwaway-postgres.ts: 127.0.0.1 only, fsync and full_page_writes off), a fresh ` +
      `database per scenario owned by a plain login role`,
    async newDatabase() {
      // The servers' role may not create databases (as in the tests), so the superuser does.
      const name = `latchkey_bench_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name} OWNER ${TEST_ROLE}`);
      } finally {
        await admin.end();
      }
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return url.href;
    },
    remove() {
      // Once: the end of the run and a signal handler may both ask.
      removal ??= removeThrowawayPostgres(cluster);
      return removal;
    },
    removeSync() {
      // Also while remove() is under way: the process exits right after, and pg_ctl stop and
      // the recursive delete are harmless when already done.
      removeThrowawayPostgresSync(cluster);
    },
  };
}

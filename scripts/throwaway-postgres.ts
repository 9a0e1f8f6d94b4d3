/**
 * A throwaway PostgreSQL cluster for the test suites, from the distribution's packages
 * (`apt-get install -y postgresql`): initdb into a fresh directory under the system temp dir, start
 * it on a free loopback port, and remove it all afterwards. As root the server runs as the
 * `postgres` user (PostgreSQL refuses to run as root).
 *
 * The cluster has two roles: `postgres`, the superuser, which tests use only to create and drop
 * databases; and `latchkey`, a plain login role that owns those databases and is the one the
 * server connects as, so the suite proves the server needs no more than the owner's rights.
 * Authentication is `trust`, which is safe only because the cluster listens on 127.0.0.1 alone and
 * lives for one test run.
 *
 * `npm test` starts one for each test file of its PostgreSQL step (scripts/test-all.ts), so that
 * files can run side by side and one that restarts its database disturbs no other, and hands the
 * test processes these variables:
 *   LATCHKEY_TEST_DATABASE_URL        postgres://latchkey@127.0.0.1:<port>/postgres
 *   LATCHKEY_TEST_ADMIN_DATABASE_URL  postgres://postgres@127.0.0.1:<port>/postgres
 *   LATCHKEY_TEST_POSTGRES_DIR        the cluster directory (data/ and postgres.log inside)
 *   LATCHKEY_TEST_POSTGRES_BIN        the directory with pg_ctl
 * Tests that stop and start the database use `throwawayPostgresFromEnv` with the last two.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTALL_HINT =
  'PostgreSQL is not installed. Install it with `apt-get install -y postgresql` (as root, on ' +
  'Debian or Ubuntu), or put a directory with initdb and pg_ctl in LATCHKEY_POSTGRES_BIN.';

/** The login role the server runs as in tests: it owns its databases and nothing more. */
export const TEST_ROLE = 'latchkey';

/** Every command is bounded; start-up to ready takes well under a second on these machines. */
const COMMAND_TIMEOUT_MS = 60_000;
const PG_CTL_WAIT_SECONDS = 30;

export interface ThrowawayCluster {
  /** Holds data/ and postgres.log; owned by the user the server runs as. */
  dir: string;
  binDir: string;
}

export interface ThrowawayPostgres extends ThrowawayCluster {
  port: number;
  /** The variables above, for the test processes. */
  env: Record<string, string>;
}

/**
 * The directory with initdb and pg_ctl: LATCHKEY_POSTGRES_BIN, else the newest
 * /usr/lib/postgresql/<version>/bin (Debian's layout). Undefined when PostgreSQL is not installed.
 */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  const explicit = env['LATCHKEY_POSTGRES_BIN'];
  if (explicit !== undefined && explicit !== '') return has(explicit) ? explicit : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'))
    .find(has);
}

const isRoot = () => process.getuid?.() === 0;

/** The postgres user's uid and gid, to hand it the cluster directory. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      'Running as root, but there is no `postgres` user to run PostgreSQL as (the postgresql ' +
        'package creates it): `apt-get install -y postgresql`.',
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Runs a PostgreSQL program as the user that owns the cluster (via runuser when we are root),
 * bounded in time; rejects with its output when it fails.
 */
function run(cluster: ThrowawayCluster, program: string, args: string[]): Promise<string> {
  const executable = join(cluster.binDir, program);
  const [command, commandArgs] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', executable, ...args]]
    : [executable, args];
  return new Promise((resolve, reject) => {
    // The cluster directory as working directory: the postgres user may not enter ours.
    const child = spawn(command, commandArgs, {
      cwd: cluster.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${program} ${args.join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address !== null && typeof address === 'object'
          ? resolve(address.port)
          : reject(new Error('no free port')),
      );
    });
  });
}

const dataDir = (cluster: ThrowawayCluster) => join(cluster.dir, 'data');

/** Starts (or restarts after `stopCluster`) the server and waits until it accepts connections. */
export async function startCluster(cluster: ThrowawayCluster): Promise<void> {
  await run(cluster, 'pg_ctl', [
    'start',
    '-D',
    dataDir(cluster),
    '-l',
    join(cluster.dir, 'postgres.log'),
    '-w',
    '-t',
    String(PG_CTL_WAIT_SECONDS),
  ]);
}

/**
 * Stops the server the way an operator's restart does: fast mode rolls back open transactions,
 * closes every connection and checkpoints, so nothing committed is lost.
 */
export async function stopCluster(cluster: ThrowawayCluster): Promise<void> {
  await run(cluster, 'pg_ctl', [
    'stop',
    '-D',
    dataDir(cluster),
    '-m',
    'fast',
    '-w',
    '-t',
    String(PG_CTL_WAIT_SECONDS),
  ]);
}

/** Stops the server if it runs and deletes the cluster directory. */
export async function removeThrowawayPostgres(cluster: ThrowawayCluster): Promise<void> {
  try {
    if (existsSync(join(dataDir(cluster), 'postmaster.pid'))) await stopCluster(cluster);
  } finally {
    rmSync(cluster.dir, { recursive: true, force: true });
  }
}

/**
 * The same as removeThrowawayPostgres, synchronously: for a signal handler, when the process is
 * about to exit and cannot wait for promises.
 */
export function removeThrowawayPostgresSync(cluster: ThrowawayCluster): void {
  try {
    if (existsSync(join(dataDir(cluster), 'postmaster.pid'))) {
      const pgCtl = join(cluster.binDir, 'pg_ctl');
      const args = ['stop', '-D', dataDir(cluster), '-m', 'fast', '-w'];
      const [command, commandArgs] = isRoot()
        ? ['runuser', ['-u', 'postgres', '--', pgCtl, ...args]]
        : [pgCtl, args];
      spawnSync(command, commandArgs, {
        cwd: cluster.dir,
        stdio: 'ignore',
        timeout: COMMAND_TIMEOUT_MS,
      });
    }
  } finally {
    rmSync(cluster.dir, { recursive: true, force: true });
  }
}

/** Creates, configures and starts a fresh cluster with the `latchkey` role. */
export async function startThrowawayPostgres(binDir: string): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-postgres-'));
  const cluster: ThrowawayCluster = { dir, binDir };
  try {
    if (isRoot()) {
      const { uid, gid } = postgresUser();
      chownSync(dir, uid, gid);
    }
    await run(cluster, 'initdb', [
      '-D',
      dataDir(cluster),
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    // Loopback only, sockets in the private directory. fsync off: this data is thrown away and
    // a crash of the machine is not what the suite tests (a clean `pg_ctl stop` still writes
    // everything, so restarts keep every commit). Room for several instances' pools at once.
    const settings = (port: number) =>
      [
        '',
        '# latchkey throwaway test cluster',
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'full_page_writes = off',
        'max_connections = 300',
        '',
      ].join('\n');
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      // Later lines win in postgresql.conf, so a retry simply appends another port.
      appendFileSync(join(dataDir(cluster), 'postgresql.conf'), settings(port));
      try {
        await startCluster(cluster);
        break;
      } catch (error) {
        // The port may have been taken between the probe and the start.
        if (attempt === 3) throw error;
      }
    }
    await run(cluster, 'psql', [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-c',
      `CREATE ROLE ${TEST_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`,
    ]);
    return {
      ...cluster,
      port,
      env: {
        LATCHKEY_TEST_DATABASE_URL: `postgres://${TEST_ROLE}@127.0.0.1:${port}/postgres`,
        LATCHKEY_TEST_ADMIN_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
        LATCHKEY_TEST_POSTGRES_DIR: dir,
        LATCHKEY_TEST_POSTGRES_BIN: binDir,
      },
    };
  } catch (error) {
    await removeThrowawayPostgres(cluster).catch(() => undefined);
    throw error;
  }
}

/** The cluster `npm test` started, for tests that stop and start it; undefined otherwise. */
export function throwawayPostgresFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ThrowawayCluster | undefined {
  const dir = env['LATCHKEY_TEST_POSTGRES_DIR'];
  const binDir = env['LATCHKEY_TEST_POSTGRES_BIN'];
  if (dir === undefined || dir === '' || binDir === undefined || binDir === '') return undefined;
  return { dir, binDir };
}

/**
 * The real Latchkey server (server/src/main.ts) in a child process, configured for load: request
 * logging off and the per-IP limit off (every request comes from 127.0.0.1), nothing else changed.
 */
import { freePort } from './free-port.ts';
import { type NodeChild, spawnNodeChild } from './node-child.ts';
import { waitUntilOk } from './wait-until-ok.ts';

const MAIN = new URL('../server/src/main.ts', import.meta.url).pathname;

/**
 * Settings every benchmarked server gets. LOG_LEVEL=warn: at `info` Fastify writes two log lines
 * per request, which measures the logger rather than the server. RATE_LIMIT_PER_IP=0 and a high
 * LOGIN_MAX_FAILURES: the load comes from one address and a few accounts, which those limits are
 * there to stop. COOKIE_SECURE=false: plain-http loopback.
 */
export const SERVER_SETTINGS: Readonly<Record<string, string>> = {
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_IP: '0',
  LOGIN_MAX_FAILURES: '1000',
  COOKIE_SECURE: 'false',
};

export interface BenchServer {
  child: NodeChild;
  baseUrl: string;
  /** Milliseconds from spawn to the first 200 on /health. */
  startMs: number;
  /** SIGTERM and a bounded wait for a clean exit (which also writes a --cpu-prof profile). */
  stop(): Promise<void>;
}

export interface StartServerOptions {
  dataDir: string;
  hashConcurrency: number;
  /** Set: a PostgreSQL database instead of SQLite under dataDir. */
  databaseUrl?: string;
  /**
   * Set: PUBLIC_URL, the tokens' issuer. Instances sharing a database must agree on it, or each
   * refuses the others' tokens (unset, each one's own address is its issuer).
   */
  publicUrl?: string;
  /** Set: the server runs with --cpu-prof and writes its profile here on exit. */
  profileDir?: string;
  /** Settings that replace SERVER_SETTINGS' or add to them. */
  env?: Readonly<Record<string, string>>;
  /** How often /health is polled while waiting for the start. */
  pollIntervalMs?: number;
}

export async function startServer(options: StartServerOptions): Promise<BenchServer> {
  const port = await freePort();
  const env: Record<string, string> = {
    ...SERVER_SETTINGS,
    PORT: String(port),
    DATA_DIR: options.dataDir,
    HASH_CONCURRENCY: String(options.hashConcurrency),
    ...options.env,
  };
  if (options.databaseUrl !== undefined) env['DATABASE_URL'] = options.databaseUrl;
  if (options.publicUrl !== undefined) env['PUBLIC_URL'] = options.publicUrl;
  const nodeArgs =
    options.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`];
  const child = spawnNodeChild(MAIN, { env, nodeArgs });
  const baseUrl = `http://127.0.0.1:${port}`;
  let healthyAt: number;
  try {
    healthyAt = await waitUntilOk(child, `${baseUrl}/health`, {
      timeoutMs: 15_000,
      intervalMs: options.pollIntervalMs ?? 20,
    });
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {
    child,
    baseUrl,
    startMs: healthyAt - child.spawnedAt,
    async stop() {
      const exit = await child.stop('SIGTERM', 15_000);
      if (exit.code !== 0) {
        process.stderr.write(
          `warning: server ${child.pid} exited with ${JSON.stringify(exit)}:\n${child.output()}\n`,
        );
      }
    },
  };
}

/**
 * The real server as a child process, for tests that need a real port, real signals and real
 * logs. Every wait is bounded; `killAll` ends every child a test file started, by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  baseUrl: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
  /** Sends a signal and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const running = new Set<ChildProcess>();

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** A fresh temporary directory, and a function that removes it. */
export function tempDataDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-process-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `server/src/main.ts` with only the given environment (plus PATH and HOME). */
export function spawnServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [MAIN], {
    cwd: tmpdir(),
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? tmpdir(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('the server process did not start');
  running.add(child);
  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const port = Number(env['PORT'] ?? 0);
  const pid = child.pid;
  return {
    child,
    pid,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => chunks.join(''),
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
      return withTimeout(
        exited,
        timeoutMs,
        `the server did not exit within ${timeoutMs} ms of ${signal}`,
      );
    },
  };
}

/** Polls GET /health every 50 ms until it answers 200; fails after `timeoutMs` or on exit. */
export async function waitUntilHealthy(server: ServerProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly: Exit | undefined;
  void server.exited.then((exit) => (exitedEarly = exit));
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) {
      throw new Error(`the server exited (${JSON.stringify(exitedEarly)}):\n${server.output()}`);
    }
    try {
      const res = await fetch(`${server.baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`the server was not healthy within ${timeoutMs} ms:\n${server.output()}`);
}

/** Spawns the server and waits until it is healthy; kills it if it never gets there. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = spawnServer(env);
  try {
    await waitUntilHealthy(server);
  } catch (error) {
    await server.stop('SIGKILL').catch(() => undefined);
    throw error;
  }
  return server;
}

/** Polls `predicate` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  const controller = new AbortController();
  const timeout = sleep(ms, undefined, { signal: controller.signal }).then(() => {
    throw new Error(message);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    controller.abort();
    timeout.catch(() => undefined);
  }
}

/** Kills (SIGKILL, by PID) every server process still running; for `after` hooks. */
export async function killAll(): Promise<void> {
  const children = [...running];
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(
    children.map((child) =>
      child.exitCode !== null || child.signalCode !== null
        ? undefined
        : withTimeout(
            new Promise((resolve) => child.once('exit', resolve)),
            5_000,
            `process ${child.pid} did not die`,
          ).catch(() => undefined),
    ),
  );
}

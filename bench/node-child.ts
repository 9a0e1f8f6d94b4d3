/**
 * A Node program in a child process (the server, the bare baseline, the raw hash-rate probe), so
 * the load generator in the orchestrating process never shares an event loop with what it
 * measures. Every wait is bounded; `killAllChildren` ends every child still running, by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeChild {
  pid: number;
  /** performance.now() just before the process was spawned. */
  spawnedAt: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<Exit>;
  hasExited(): boolean;
  /** Peak resident set size so far (VmHWM from /proc/<pid>/status), in bytes. */
  peakRssBytes(): number;
  /** Sends `signal`, waits (bounded) for the exit, and SIGKILLs the process if it does not come. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface SpawnOptions {
  /** The complete environment besides PATH and HOME: nothing else is inherited. */
  env: Record<string, string>;
  nodeArgs?: string[];
  args?: string[];
}

const running = new Set<ChildProcess>();

/** Starts `script` with this process's Node binary (Node 24 runs .ts files directly). */
export function spawnNodeChild(script: string, options: SpawnOptions): NodeChild {
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), script, ...(options.args ?? [])],
    {
      cwd: tmpdir(),
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? tmpdir(),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${script} did not start`);
  running.add(child);
  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });

  return {
    pid,
    spawnedAt,
    output: () => chunks.join(''),
    exited,
    hasExited: () => exit !== undefined,
    peakRssBytes() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
      if (kib === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
      return Number(kib) * 1024;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (exit !== undefined) return exit;
      process.kill(pid, signal);
      const outcome = await Promise.race([exited, sleep(timeoutMs).then(() => undefined)]);
      if (outcome !== undefined) return outcome;
      process.kill(pid, 'SIGKILL');
      return exited;
    },
  };
}

/** SIGKILLs, by PID, every child this process started that is still running. */
export function killAllChildren(): void {
  for (const child of running) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

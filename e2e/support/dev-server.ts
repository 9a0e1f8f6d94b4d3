/**
 * `ng serve` of an Angular app as a user runs it, with the app's own proxy.conf.json pointed at
 * a test's Latchkey server (only the target's port differs). Listens on 127.0.0.1 only; stopped
 * by its process group's id (the CLI starts esbuild workers of its own).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DevServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** The first build of `ng serve` on two busy cores: measured at 5 to 15 s. */
const READY_TIMEOUT_MS = 120_000;

/**
 * Starts `ng serve` in `appDir` on `port`, proxying as its proxy.conf.json says but to
 * `apiUrl`; resolves once the app's index.html is served.
 */
export async function startDevServer(
  appDir: string,
  port: number,
  apiUrl: string,
): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-dev-server-'));
  const proxy = JSON.parse(readFileSync(join(appDir, 'proxy.conf.json'), 'utf8')) as Record<
    string,
    { target: string }
  >;
  for (const rule of Object.values(proxy)) rule.target = apiUrl;
  const proxyFile = join(dir, 'proxy.conf.json');
  writeFileSync(proxyFile, JSON.stringify(proxy));

  const child: ChildProcess = spawn(
    join(appDir, 'node_modules/.bin/ng'),
    ['serve', '--host', '127.0.0.1', '--port', String(port), '--proxy-config', proxyFile],
    {
      cwd: appDir,
      detached: true, // its own process group, so that stop() ends the CLI's workers too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NG_CLI_ANALYTICS: 'false', NO_COLOR: '1' },
    },
  );
  const chunks: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid;
  const stop = async () => {
    if (pid !== undefined && !exited) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exit, sleep(5_000)]);
      if (!exited) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => {
    if (pid !== undefined && !exited) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`ng serve exited:\n${chunks.join('')}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      if (response.status === 200 && text.includes('<app-root')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ng serve was not ready in ${READY_TIMEOUT_MS} ms:\n${chunks.join('')}`);
    }
    await sleep(200);
  }
  return { url, output: () => chunks.join(''), stop };
}

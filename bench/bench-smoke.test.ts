/**
 * The benchmark still runs: `bench/run.ts --smoke` (status against the bare route, about 2 s
 * each) in a child process finishes, exits 0 and prints a measured ratio. Its targets are not
 * enforced: CI machines are shared and small.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const RUN = new URL('./run.ts', import.meta.url).pathname;
const LIMIT_MS = 120_000;

test(
  'the smoke benchmark runs and prints the status ratio',
  { timeout: LIMIT_MS + 5_000 },
  async () => {
    const child = spawn(process.execPath, [RUN, '--smoke'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: '' },
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);

    assert.equal(code, 0, output);
    assert.match(output, /Smoke run finished/, output);
    assert.match(
      output,
      /GET \/auth\/status ÷ bare route, throughput: \d+\.\d\d× \(target ≥ 0\.80×\)/,
      output,
    );
  },
);

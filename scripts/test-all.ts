/**
 * `npm test`: every check, in order, with one closing line `N passed, N failed`.
 *
 * Steps: lint, typecheck, server tests on SQLite, then again on a throwaway PostgreSQL (which
 * fails, saying what to install, where PostgreSQL is missing), then the other suites as they
 * land. A test counts once; lint and typecheck count as one test each. A suite that runs no test
 * is a failure. Exit code 1 when anything failed.
 *
 * `npm test -- --only server` runs the named steps only (comma-separated).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findPostgresBinDir,
  INSTALL_HINT,
  removeThrowawayPostgres,
  removeThrowawayPostgresSync,
  startThrowawayPostgres,
} from './throwaway-postgres.ts';

interface Outcome {
  passed: number;
  failed: number;
  /** Shown, never counted as a pass: a skipped test or suite says why in the report above. */
  skipped?: number;
}

interface Step {
  name: string;
  run: () => Promise<Outcome>;
}

const root = new URL('..', import.meta.url).pathname;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function exec(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = root,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

/** A command that passes or fails as a whole. */
const check = (name: string, command: string, args: string[], cwd = root): Step => ({
  name,
  run: async () =>
    (await exec(command, args, { NG_CLI_ANALYTICS: 'false' }, cwd)) === 0
      ? { passed: 1, failed: 0 }
      : { passed: 0, failed: 1 },
});

/** node:test over a set of files; counts come from a TAP copy of the report. */
const nodeTests = (name: string, files: string[], env: NodeJS.ProcessEnv = {}): Step => ({
  name,
  run: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    const tap = join(dir, 'report.tap');
    try {
      const code = await exec(
        process.execPath,
        [
          '--test',
          '--test-concurrency=1',
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${tap}`,
          ...files,
        ],
        env,
      );
      const report = readFileSync(tap, 'utf8');
      const count = (label: string) =>
        Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
      const passed = count('pass');
      const failed = count('fail') + count('cancelled');
      // Skipped tests and whole skipped suites (which `# skip` does not count).
      const skipped = report.match(/^\s*ok \d+ - .* # SKIP/gm)?.length ?? 0;
      if (passed + failed === 0) return { passed: 0, failed: 1, skipped }; // ran nothing: a failure
      return { passed, failed: failed === 0 && code !== 0 ? 1 : failed, skipped };
    } catch {
      return { passed: 0, failed: 1 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

/**
 * node:test over a set of files on a throwaway PostgreSQL (scripts/throwaway-postgres.ts), stopped
 * and deleted afterwards, whatever happened. Without PostgreSQL installed the step fails and says
 * what to install: it is never skipped.
 */
const postgresTests = (name: string, files: string[]): Step => ({
  name,
  run: async () => {
    const binDir = findPostgresBinDir();
    if (binDir === undefined) {
      process.stderr.write(`${name}: ${INSTALL_HINT}\n`);
      return { passed: 0, failed: 1 };
    }
    let cluster;
    try {
      cluster = await startThrowawayPostgres(binDir);
    } catch (error) {
      process.stderr.write(`${name}: could not start a throwaway PostgreSQL: ${String(error)}\n`);
      return { passed: 0, failed: 1 };
    }
    process.stdout.write(`PostgreSQL ${binDir} on 127.0.0.1:${cluster.port}, in ${cluster.dir}\n`);
    // Ctrl-C or a CI timeout must not leave a server running.
    const onSignal = (signal: NodeJS.Signals) => {
      removeThrowawayPostgresSync(cluster);
      process.kill(process.pid, signal);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      return await nodeTests(name, files, cluster.env).run();
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await removeThrowawayPostgres(cluster);
    }
  },
});

/** Angular's Vitest runner; counts come from its summary line (`Tests  2 failed | 67 passed`). */
const vitestTests = (name: string, cwd: string): Step => ({
  name,
  run: () =>
    new Promise((resolve) => {
      const child = spawn(bin('ng'), ['test', '--watch=false'], {
        cwd: join(root, cwd),
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', NG_CLI_ANALYTICS: 'false' },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        process.stdout.write(chunk);
      });
      child.on('error', () => resolve({ passed: 0, failed: 1 }));
      child.on('exit', (code) => {
        const line = /^\s*Tests\s+(.*)$/m.exec(output)?.[1] ?? '';
        const count = (label: string) => Number(new RegExp(`(\\d+) ${label}`).exec(line)?.[1] ?? 0);
        const passed = count('passed');
        const failed = count('failed');
        if (passed + failed === 0) resolve({ passed: 0, failed: 1 });
        else resolve({ passed, failed: failed === 0 && code !== 0 ? 1 : failed });
      });
    }),
});

/** Every test file of a folder, less some. */
const testFiles = (dir: string, except: string[] = []) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts') && !except.includes(f))
    .map((f) => `${dir}/${f}`);

/** Suites about several instances on one PostgreSQL: they run in the PostgreSQL step only. */
const POSTGRES_ONLY = ['multi-instance.test.ts', 'nginx.test.ts'];
const SCREENSHOT_DIR = join(root, '.ci-out/screenshots');

const steps: Step[] = [
  check('lint', bin('eslint'), ['.']),
  check('format', bin('prettier'), ['--check', '.']),
  check('typecheck', bin('tsc'), ['-p', 'server/tsconfig.json']),
  check('typecheck contract', bin('tsc'), ['-p', 'packages/contract/tsconfig.json']),
  check('typecheck e2e', bin('tsc'), ['-p', 'e2e/tsconfig.json']),
  check('typecheck bench', bin('tsc'), ['-p', 'bench/tsconfig.json']),
  nodeTests('server (SQLite)', testFiles('server/test', POSTGRES_ONLY)),
  postgresTests('server (PostgreSQL)', testFiles('server/test')),
  vitestTests('web unit (Vitest)', 'web'),
  check('web build', bin('ng'), ['build', '--configuration', 'production'], join(root, 'web')),
  check('web bundle budget', process.execPath, ['scripts/check-bundle.ts']),
  nodeTests('e2e (Chromium)', testFiles('e2e'), { LATCHKEY_SCREENSHOT_DIR: SCREENSHOT_DIR }),
  // Benchmarks are not tests: this only proves the bench runs (a short status-vs-baseline load).
  nodeTests('bench smoke', ['bench/bench-smoke.test.ts']),
  {
    name: 'screenshots',
    run: async () => {
      // Not a test: lists the page screenshots the browser tests kept, for the CI log.
      let shots: { name: string }[] = [];
      try {
        shots = readdirSync(SCREENSHOT_DIR, { withFileTypes: true }).filter((f) => f.isFile());
      } catch {
        process.stdout.write('No screenshots were kept.\n');
      }
      for (const shot of shots) process.stdout.write(`${join(SCREENSHOT_DIR, shot.name)}\n`);
      return { passed: 0, failed: 0 };
    },
  },
];

const only = process.argv.indexOf('--only');
const selected =
  only === -1
    ? steps
    : steps.filter((s) =>
        (process.argv[only + 1] ?? '').split(',').some((n) => s.name.startsWith(n)),
      );

const total: Outcome = { passed: 0, failed: 0 };
const lines: string[] = [];
for (const step of selected) {
  process.stdout.write(`\n=== ${step.name} ===\n`);
  const outcome = await step.run();
  total.passed += outcome.passed;
  total.failed += outcome.failed;
  const skipped = outcome.skipped ? `, ${outcome.skipped} skipped` : '';
  lines.push(`${step.name}: ${outcome.passed} passed, ${outcome.failed} failed${skipped}`);
}
process.stdout.write(`\n${lines.join('\n')}\n`);
process.stdout.write(`${total.passed} passed, ${total.failed} failed\n`);
process.exitCode = total.failed === 0 ? 0 : 1;

/**
 * `npm test`: every check, with one closing line `N passed, N failed`.
 *
 * Steps: lint, format, the typechecks, the Angular unit tests and the production build, one per
 * core at a time (each printed whole when it ends), then the bundle budget; the server suite on
 * SQLite; the database suites again on throwaway PostgreSQL clusters (which fails, saying what to
 * install, where PostgreSQL is missing); the browser tests; the example app (the packaged library
 * in a fresh Angular app, built, served and driven); a benchmark smoke run, alone. Test
 * files run one per core too: each starts its own servers, databases and browser on free ports in
 * fresh directories. A test counts once; every other step counts as one test. A suite that runs no
 * test is a failure. The summary gives each step's wall time and the total. Exit code 1 when
 * anything failed.
 *
 * `npm run test:quick` (`--quick`): lint, format, typechecks and the SQLite server suite, for the
 * inner loop. `npm test -- --only server` runs the named steps only (comma-separated prefixes).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_HINT, findChromium } from '../e2e/support/find-chromium.ts';
import {
  findPostgresBinDir,
  INSTALL_HINT,
  removeThrowawayPostgres,
  removeThrowawayPostgresSync,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from './throwaway-postgres.ts';

interface Outcome {
  passed: number;
  failed: number;
  /** Shown, never counted as a pass: a skipped test or suite says why in the report above. */
  skipped?: number;
}

/** Where a step's output goes: straight to stdout, or to a buffer printed when the step ends. */
type Write = (chunk: string | Buffer) => void;

interface Step {
  name: string;
  run: (write: Write) => Promise<Outcome>;
}

/** Steps that run side by side, at most `concurrency` at a time; a lone step streams its output. */
interface Stage {
  steps: Step[];
  concurrency: number;
}

const root = new URL('..', import.meta.url).pathname;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const PASS: Outcome = { passed: 1, failed: 0 };
const FAIL: Outcome = { passed: 0, failed: 1 };

/**
 * One test file (or check) per core, at most four. On two cores, two at a time keep both busy;
 * three or six at a time measured no faster (each tool already uses more than one core at times)
 * and give the browser and process tests' timeouts less room.
 */
const CONCURRENCY = Math.min(Math.max(availableParallelism(), 1), 4);

/** Calls `task` on every item, at most `limit` at a time; results in the items' order. */
async function pool<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Runs a command, its stdout and stderr to `write`; resolves with the exit code. */
function exec(
  command: string,
  args: string[],
  write: Write,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NG_CLI_ANALYTICS: 'false', ...options.env },
    });
    child.stdout.on('data', write);
    child.stderr.on('data', write);
    child.on('error', (error) => {
      write(`${command}: ${error.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      const status = code ?? (signal ? 1 : 0);
      // The last output may still be in the pipes; a grandchild that kept them open must not
      // hold up the run, though.
      const late = setTimeout(() => resolve(status), 2_000);
      child.on('close', () => {
        clearTimeout(late);
        resolve(status);
      });
    });
  });
}

/** A command that passes or fails as a whole. */
const check = (name: string, command: string, args: string[], cwd = root): Step => ({
  name,
  run: async (write) => ((await exec(command, args, write, { cwd })) === 0 ? PASS : FAIL),
});

const sum = (outcomes: Outcome[]): Outcome => ({
  passed: outcomes.reduce((n, o) => n + o.passed, 0),
  failed: outcomes.reduce((n, o) => n + o.failed, 0),
  skipped: outcomes.reduce((n, o) => n + (o.skipped ?? 0), 0),
});

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Runs one test file, its report to `write`. */
type FileRun = (file: string, write: Write) => Promise<Outcome>;

/** node:test over one file, in a runner of its own; counts come from a TAP copy of the report. */
const nodeTestFile =
  (env: NodeJS.ProcessEnv = {}): FileRun =>
  async (file, write) => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    const tap = join(dir, 'report.tap');
    try {
      const code = await exec(
        process.execPath,
        [
          '--test',
          '--test-reporter=spec',
          '--test-reporter-destination=stdout',
          '--test-reporter=tap',
          `--test-reporter-destination=${tap}`,
          file,
        ],
        write,
        { env },
      );
      const report = readFileSync(tap, 'utf8');
      const count = (label: string) =>
        Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
      const passed = count('pass');
      const failed = count('fail') + count('cancelled');
      // Skipped tests and whole skipped suites (which `# skip` does not count).
      const skipped = report.match(/^\s*ok \d+ - .* # SKIP/gm)?.length ?? 0;
      return { passed, failed: failed === 0 && code !== 0 ? 1 : failed, skipped };
    } catch (error) {
      write(`${String(error)}\n`);
      return FAIL;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

/**
 * Test files, `concurrency` at a time, in the order given (`node --test` would sort them by name,
 * and the slowest must start first). Each file's report is printed whole when it ends, with its
 * wall time, so that files side by side do not interleave. A step that runs no test fails.
 */
async function runTestFiles(
  files: string[],
  concurrency: number,
  write: Write,
  run: FileRun,
): Promise<Outcome> {
  const outcomes = await pool(files, concurrency, async (file) => {
    const output: (string | Buffer)[] = [];
    const startedAt = performance.now();
    const outcome = await run(file, (chunk) => void output.push(chunk));
    write(`\n--- ${file} (${seconds(performance.now() - startedAt)}) ---\n`);
    for (const chunk of output) write(chunk);
    return outcome;
  });
  const total = sum(outcomes);
  return total.passed + total.failed === 0 ? { ...FAIL, skipped: total.skipped } : total;
}

const nodeTests = (
  name: string,
  files: string[],
  options: { env?: NodeJS.ProcessEnv; concurrency?: number } = {},
): Step => ({
  name,
  run: (write) => runTestFiles(files, options.concurrency ?? 1, write, nodeTestFile(options.env)),
});

/** Runs `task` on a fresh throwaway PostgreSQL, removed afterwards whatever happened. */
async function withThrowawayPostgres(
  binDir: string,
  write: Write,
  task: (cluster: ThrowawayPostgres) => Promise<Outcome>,
): Promise<Outcome> {
  let cluster: ThrowawayPostgres;
  try {
    cluster = await startThrowawayPostgres(binDir);
  } catch (error) {
    write(`could not start a throwaway PostgreSQL: ${String(error)}\n`);
    return FAIL;
  }
  write(`PostgreSQL ${binDir} on 127.0.0.1:${cluster.port}, in ${cluster.dir}\n`);
  // Ctrl-C or a CI timeout must not leave a server running.
  const onSignal = (signal: NodeJS.Signals) => {
    removeThrowawayPostgresSync(cluster);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await task(cluster);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await removeThrowawayPostgres(cluster);
  }
}

/**
 * node:test over files on PostgreSQL (scripts/throwaway-postgres.ts). Each file gets a throwaway
 * cluster of its own (a second or two to create), so a suite that stops and restarts its
 * database pulls it from under no one. Without PostgreSQL installed the step fails and says what
 * to install: it is never skipped.
 */
const postgresTests = (name: string, files: string[], concurrency: number): Step => ({
  name,
  run: async (write) => {
    const binDir = findPostgresBinDir();
    if (binDir === undefined) {
      write(`${INSTALL_HINT}\n`);
      return FAIL;
    }
    return runTestFiles(files, concurrency, write, (file, fileWrite) =>
      withThrowawayPostgres(binDir, fileWrite, (cluster) =>
        nodeTestFile(cluster.env)(file, fileWrite),
      ),
    );
  },
});

/** Angular's Vitest runner; counts come from its summary line (`Tests  2 failed | 67 passed`). */
const vitestTests = (name: string, cwd: string): Step => ({
  name,
  run: async (write) => {
    let output = '';
    const code = await exec(
      bin('ng'),
      ['test', '--watch=false'],
      (chunk) => {
        output += chunk.toString();
        write(chunk);
      },
      { cwd: join(root, cwd), env: { NO_COLOR: '1', FORCE_COLOR: '0' } },
    );
    const line = /^\s*Tests\s+(.*)$/m.exec(output)?.[1] ?? '';
    const count = (label: string) => Number(new RegExp(`(\\d+) ${label}`).exec(line)?.[1] ?? 0);
    const passed = count('passed');
    const failed = count('failed');
    if (passed + failed === 0) return FAIL;
    return { passed, failed: failed === 0 && code !== 0 ? 1 : failed };
  },
});

/** The browser tests, once it is clear there is a browser to run them in (else one clear failure). */
const browserTests = (name: string, files: string[], env: NodeJS.ProcessEnv): Step => ({
  name,
  run: async (write) => {
    try {
      write(`Chromium: ${findChromium()}\n`);
    } catch (error) {
      write(`${error instanceof Error ? error.message : CHROMIUM_HINT}\n`);
      return FAIL;
    }
    return runTestFiles(files, CONCURRENCY, write, nodeTestFile(env));
  },
});

const EXAMPLE_DIR = join(root, 'examples/angular-app');

/**
 * The example app as a user gets it: `npm run package`, the tarball installed into
 * examples/angular-app (outside the workspaces), `ng build`, then e2e/example-app drives it under
 * `ng serve`. The example's own packages are installed by `npm ci` only when its lock file changed
 * (its sha256 is kept next to them, as .ci/run does; npm's cache makes even that quick and
 * offline-friendly); the tarball is installed on top each time with `--no-save`, so the
 * checked-in package.json and lock stay as `ng new` wrote them and a rebuilt tarball is always
 * the one tested (npm would keep a file: tarball it already has when only its content changed).
 */
const exampleApp = (name: string): Step => ({
  name,
  run: async (write) => {
    try {
      write(`Chromium: ${findChromium()}\n`);
    } catch (error) {
      write(`${error instanceof Error ? error.message : CHROMIUM_HINT}\n`);
      return FAIL;
    }
    const npmQuiet = ['--no-audit', '--no-fund', '--prefer-offline'];
    const stamp = join(EXAMPLE_DIR, 'node_modules/.latchkey-lock.sha256');
    const lockSha = createHash('sha256')
      .update(readFileSync(join(EXAMPLE_DIR, 'package-lock.json')))
      .digest('hex');
    const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === lockSha;
    const commands: [string, string, string[], string][] = [
      ['npm run package', process.execPath, ['scripts/package-angular.ts'], root],
      ...(fresh
        ? []
        : [
            ['npm ci', 'npm', ['ci', ...npmQuiet], EXAMPLE_DIR] as [
              string,
              string,
              string[],
              string,
            ],
          ]),
      [
        'npm install the tarball',
        'npm',
        ['install', ...npmQuiet, '--no-save', '../../dist/latchkey-angular.tgz'],
        EXAMPLE_DIR,
      ],
      ['ng build', join(EXAMPLE_DIR, 'node_modules/.bin/ng'), ['build'], EXAMPLE_DIR],
    ];
    for (const [label, command, args, cwd] of commands) {
      const startedAt = performance.now();
      write(`\n--- ${label} ---\n`);
      if ((await exec(command, args, write, { cwd })) !== 0) {
        write(`${label} failed\n`);
        return FAIL;
      }
      if (label === 'npm ci') writeFileSync(stamp, lockSha);
      write(`(${label}: ${seconds(performance.now() - startedAt)})\n`);
    }
    return runTestFiles(['e2e/example-app/angular-app.test.ts'], 1, write, nodeTestFile());
  },
});

/**
 * The slowest files of their suites, slowest first. They start first: started last, a slow file
 * runs alone at the end while the other core idles (token-expiry mostly waits for tokens to
 * expire, and did just that).
 */
const SLOWEST_FIRST = [
  'token-expiry.test.ts',
  'sessions.test.ts',
  'sign-in.test.ts',
  'process.test.ts',
];
const rank = (file: string) => {
  const index = SLOWEST_FIRST.indexOf(file);
  return index === -1 ? SLOWEST_FIRST.length : index;
};

/** Every test file of a folder that passes `filter`: the slowest first, then by name. */
const testFiles = (dir: string, filter: (file: string) => boolean = () => true) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.test.ts') && filter(f))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((f) => `${dir}/${f}`);

/** Suites about several instances on one PostgreSQL: they run in the PostgreSQL step only. */
const POSTGRES_ONLY = ['multi-instance.test.ts', 'nginx.test.ts'];

/**
 * The suites the PostgreSQL step runs: the ones about the database. The HTTP suites (endpoints,
 * refresh rotation, throttling…) reach the database only through the Store interface, and
 * store-conformance checks that interface on both engines, so running them on PostgreSQL again
 * would repeat the SQLite step at twice its cost. What only a real PostgreSQL shows stays:
 * several instances on one database and its restart (multi-instance), the scale-out guide's
 * nginx setup, real server processes on it (process), the housekeeping lease, and the operator CLI. Longest first, so that the two at a
 * time finish together.
 */
const DATABASE_SUITES = [
  'multi-instance.test.ts',
  'revocation-instances.test.ts',
  'process.test.ts',
  'store-conformance.test.ts',
  'nginx.test.ts',
  'housekeeping.test.ts',
  'cli.test.ts',
].map((file) => `server/test/${file}`);

const SCREENSHOT_DIR = join(root, '.ci-out/screenshots');

/** What `--quick` runs: the checks and the SQLite server suite, for the inner loop. */
const QUICK = ['lint', 'format', 'typecheck', 'server (SQLite)'];

const one = (step: Step): Stage => ({ steps: [step], concurrency: 1 });

/**
 * Caches that make a second run quicker, next to the packages (npm ci starts them afresh).
 * tsc's incremental mode is exact: it re-checks every file a change can affect. Prettier's cache
 * is too: a file's format depends on its content, the options and Prettier's version alone.
 */
const CACHE_DIR = join(root, 'node_modules/.cache/latchkey');
mkdirSync(CACHE_DIR, { recursive: true });
const typecheck = (name: string, project: string): Step =>
  check(name, bin('tsc'), [
    '-p',
    project,
    '--incremental',
    '--tsBuildInfoFile',
    join(CACHE_DIR, `${name.replaceAll(' ', '-')}.tsbuildinfo`),
  ]);

/**
 * ESLint's cache is not: it re-lints changed files only, so a type-aware rule can miss what a
 * change did to another file's types (typescript-eslint's FAQ). Fine for the inner loop
 * (`--quick`); `npm test` lints everything.
 */
const QUICK_MODE = process.argv.includes('--quick');
const LINT_CACHE = ['--cache', '--cache-strategy', 'content', '--cache-location'];

const stages: Stage[] = [
  {
    // Longest first, so that the last two finish together.
    concurrency: CONCURRENCY,
    steps: [
      check('lint', bin('eslint'), [
        ...(QUICK_MODE ? [...LINT_CACHE, join(CACHE_DIR, 'eslint')] : []),
        '.',
      ]),
      check('web build', bin('ng'), ['build', '--configuration', 'production'], join(root, 'web')),
      typecheck('typecheck', 'server/tsconfig.json'),
      vitestTests('web unit (Vitest)', 'web'),
      check('format', bin('prettier'), [
        '--check',
        '--cache',
        '--cache-location',
        join(CACHE_DIR, 'prettier'),
        '.',
      ]),
      typecheck('typecheck e2e', 'e2e/tsconfig.json'),
      typecheck('typecheck bench', 'bench/tsconfig.json'),
      typecheck('typecheck contract', 'packages/contract/tsconfig.json'),
      typecheck('typecheck scripts', 'scripts/tsconfig.json'),
      // The served OpenAPI document through Redocly's recommended rules (redocly.yaml).
      check('OpenAPI lint', process.execPath, ['scripts/lint-openapi.ts']),
    ],
  },
  one(check('web bundle budget', process.execPath, ['scripts/check-bundle.ts'])),
  one(
    nodeTests(
      'server (SQLite)',
      testFiles('server/test', (f) => !POSTGRES_ONLY.includes(f)),
      { concurrency: CONCURRENCY },
    ),
  ),
  one(postgresTests('server (PostgreSQL)', DATABASE_SUITES, CONCURRENCY)),
  one(
    browserTests('e2e (Chromium)', testFiles('e2e'), { LATCHKEY_SCREENSHOT_DIR: SCREENSHOT_DIR }),
  ),
  one(exampleApp('example app (tarball, ng build, ng serve, Chromium)')),
  // Benchmarks are not tests: this only proves the bench runs (a short status-vs-baseline load).
  // Alone, like every load run: it measures.
  one(nodeTests('bench smoke', ['bench/bench-smoke.test.ts'])),
  one({
    name: 'screenshots',
    run: async (write) => {
      // Not a test: lists the page screenshots the browser tests kept, for the CI log.
      let shots: { name: string }[] = [];
      try {
        shots = readdirSync(SCREENSHOT_DIR, { withFileTypes: true }).filter((f) => f.isFile());
      } catch {
        write('No screenshots were kept.\n');
      }
      for (const shot of shots) write(`${join(SCREENSHOT_DIR, shot.name)}\n`);
      return { passed: 0, failed: 0 };
    },
  }),
];

/** The names (prefixes) of the steps to run; undefined for all of them. */
function selectedNames(argv: string[]): string[] | undefined {
  if (QUICK_MODE) return QUICK;
  const only = argv.indexOf('--only');
  return only === -1 ? undefined : (argv[only + 1] ?? '').split(',').filter((n) => n !== '');
}

const names = selectedNames(process.argv);
const selected = stages
  .map((stage) => ({
    ...stage,
    steps: stage.steps.filter((s) => names?.some((n) => s.name.startsWith(n)) ?? true),
  }))
  .filter((stage) => stage.steps.length > 0);

const out: Write = (chunk) => void process.stdout.write(chunk);

const total: Outcome = { passed: 0, failed: 0 };
const lines: string[] = [];
const startedAt = performance.now();
for (const stage of selected) {
  const stageStartedAt = performance.now();
  const results = await pool(stage.steps, stage.concurrency, async (step) => {
    const alone = stage.steps.length === 1;
    const output: (string | Buffer)[] = [];
    const write: Write = alone ? out : (chunk) => void output.push(chunk);
    if (alone) out(`\n=== ${step.name} ===\n`);
    const stepStartedAt = performance.now();
    const outcome = await step.run(write).catch((error: unknown) => {
      write(`${String(error)}\n`);
      return FAIL;
    });
    const ms = performance.now() - stepStartedAt;
    if (!alone) {
      // Printed whole, so that side-by-side steps do not interleave.
      out(`\n=== ${step.name} (${seconds(ms)}) ===\n`);
      for (const chunk of output) out(chunk);
    }
    return { step, outcome, ms };
  });
  for (const { step, outcome, ms } of results) {
    total.passed += outcome.passed;
    total.failed += outcome.failed;
    const skipped = outcome.skipped ? `, ${outcome.skipped} skipped` : '';
    lines.push(
      `${step.name}: ${outcome.passed} passed, ${outcome.failed} failed${skipped} (${seconds(ms)})`,
    );
  }
  if (stage.steps.length > 1) {
    lines.push(
      `  (the ${stage.steps.length} steps above, ${stage.concurrency} at a time: ` +
        `${seconds(performance.now() - stageStartedAt)})`,
    );
  }
}
lines.push(`wall time: ${seconds(performance.now() - startedAt)}`);
process.stdout.write(`\n${lines.join('\n')}\n`);
process.stdout.write(`${total.passed} passed, ${total.failed} failed\n`);
process.exitCode = total.failed === 0 ? 0 : 1;

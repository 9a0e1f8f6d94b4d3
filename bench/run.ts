/**
 * `npm run bench`: every scenario of the benchmark issue against a baseline measured in the same
 * run, each target printed with its measured value and whether it is met; writes
 * docs/benchmarks.md and docs/benchmarks.svg. Exits 1 when a target is missed.
 *
 * `npm run bench -- --smoke`: status against the bare route only, about 2 s each, for CI; targets
 * are printed but not enforced, and no file is written.
 * `--only status,refresh`: the named scenarios only (no file written).
 * `--profile`: servers run with --cpu-prof; the profiles' directory is printed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { chartSvg } from './chart-svg.ts';
import { formatMb } from './format-figures.ts';
import { machineInfo } from './machine-info.ts';
import { killAllChildren } from './node-child.ts';
import { allChecks, renderReport, type ScenarioOutcome } from './report.ts';
import type { BenchSettings, Scenario, ScenarioContext } from './scenario.ts';
import { coldStart } from './scenarios/cold-start.ts';
import { loginThroughput } from './scenarios/login-throughput.ts';
import { millionUsers } from './scenarios/million-users.ts';
import { refreshThroughput } from './scenarios/refresh-throughput.ts';
import { statusDuringLoginStorm } from './scenarios/status-during-login-storm.ts';
import { statusThroughput } from './scenarios/status-throughput.ts';
import { type Baseline, startBaseline } from './start-baseline.ts';
import { SERVER_SETTINGS } from './start-server.ts';
import { checkTarget, formatLimit, formatValue, type TargetCheck } from './target-check.ts';

const DOCS = new URL('../docs/', import.meta.url).pathname;
const REPORT_FILE = join(DOCS, 'benchmarks.md');
const CHART_FILE = 'benchmarks.svg';
/** The whole run must finish within 5 minutes; past this it is stopped and fails. */
const RUN_LIMIT_MS = 295_000;
const SMOKE_LIMIT_MS = 90_000;
const PEAK_RSS_LIMIT_MB = 200;

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});

// The servers' HASH_CONCURRENCY (default 2, as the server's), also used by the raw hash probe.
const hashConcurrency = Number(process.env['HASH_CONCURRENCY'] || 2);
if (!Number.isInteger(hashConcurrency) || hashConcurrency < 1 || hashConcurrency > 64) {
  process.stderr.write(`HASH_CONCURRENCY must be a whole number from 1 to 64.\n`);
  process.exit(2);
}
const databaseUrl = process.env['DATABASE_URL']?.trim() || undefined;
const settings: BenchSettings = {
  smoke: args.smoke,
  warmupSeconds: 1,
  durationSeconds: args.smoke ? 2 : 8,
  rounds: args.smoke ? 1 : 8,
  connections: 10,
  loginConnections: 8,
  hashConcurrency,
  profileDir: args.profile ? mkdtempSync(join(tmpdir(), 'latchkey-bench-profiles-')) : undefined,
  databaseUrl,
};

const scenarios: Scenario[] = args.smoke
  ? [statusThroughput]
  : [
      coldStart,
      statusThroughput,
      loginThroughput,
      refreshThroughput('SQLite'),
      ...(databaseUrl === undefined ? [] : [refreshThroughput('PostgreSQL')]),
      statusDuringLoginStorm,
      millionUsers,
    ];
const skipped =
  args.smoke || databaseUrl !== undefined
    ? []
    : ['POST /auth/refresh on PostgreSQL: skipped, DATABASE_URL is not set.'];
const only = args.only?.split(',').map((s) => s.trim());
const selected = only === undefined ? scenarios : scenarios.filter((s) => only.includes(s.id));
if (only !== undefined && selected.length === 0) {
  process.stderr.write(`--only: no such scenario; known: ${scenarios.map((s) => s.id)}\n`);
  process.exit(2);
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('The benchmark ran past its time limit; stopping.\n');
    killAllChildren();
    process.exit(1);
  },
  args.smoke ? SMOKE_LIMIT_MS : RUN_LIMIT_MS,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const printCheck = (check: TargetCheck) =>
  process.stdout.write(
    `  [${check.met ? 'met' : 'MISSED'}] ${check.label}: ${formatValue(check.value, check.unit)} ` +
      `(target ${formatLimit(check)}); ${check.detail}\n`,
  );

const workDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
let baseline: Baseline | undefined;
const machine = machineInfo();
const startedAt = performance.now();
const outcomes: ScenarioOutcome[] = [];
let exitCode = 0;

try {
  process.stdout.write(
    `Latchkey benchmarks${args.smoke ? ' (smoke)' : ''}: ${machine.cpuModel}, ${machine.cores} ` +
      `cores, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}, load average ` +
      `${machine.loadAverageAtStart.toFixed(2)}\n`,
  );
  let dirs = 0;
  const context: ScenarioContext = {
    settings,
    runId: Math.random().toString(16).slice(2, 8).padEnd(6, '0'),
    newDataDir() {
      dirs += 1;
      const dir = join(workDir, `data-${dirs}`);
      mkdirSync(dir);
      return dir;
    },
    async baseline(bodyBytes) {
      if (baseline !== undefined && baseline.bodyBytes !== bodyBytes) {
        await baseline.stop();
        baseline = undefined;
      }
      baseline ??= await startBaseline(bodyBytes);
      return baseline;
    },
    log: (message) => process.stdout.write(`  … ${message}\n`),
  };

  for (const [i, scenario] of selected.entries()) {
    process.stdout.write(`\n${i + 1}/${selected.length} ${scenario.title}\n`);
    const result = await scenario.run(context);
    outcomes.push({ title: scenario.title, result });
    result.checks.forEach(printCheck);
  }

  const memory = outcomes.flatMap((o) => o.result.memory);
  const largest = memory.reduce((a, b) => (b.peakRssBytes > a.peakRssBytes ? b : a));
  const overallChecks = [
    checkTarget({
      label: 'peak RSS of the server, largest of all scenarios',
      value: largest.peakRssBytes / 1024 / 1024,
      unit: 'MB',
      comparison: 'at most',
      limit: PEAK_RSS_LIMIT_MB,
      detail: memory.map((m) => `${m.label} ${formatMb(m.peakRssBytes)}`).join(', '),
    }),
  ];
  process.stdout.write('\nMemory\n');
  overallChecks.forEach(printCheck);
  for (const line of skipped) process.stdout.write(`\n${line}\n`);

  const report = {
    machine,
    settings,
    serverSettings: SERVER_SETTINGS,
    outcomes,
    overallChecks,
    skipped,
    totalSeconds: (performance.now() - startedAt) / 1000,
    chartFile: CHART_FILE,
  };
  const checks = allChecks(report);
  const missed = checks.filter((c) => !c.met);
  process.stdout.write(
    `\n${checks.length - missed.length} of ${checks.length} targets met in ` +
      `${Math.round(report.totalSeconds)} s.\n`,
  );

  if (args.smoke) {
    process.stdout.write('Smoke run finished (targets are not enforced in smoke mode).\n');
  } else if (only !== undefined) {
    process.stdout.write('Partial run (--only): docs/benchmarks.md was not written.\n');
    if (missed.length > 0) exitCode = 1;
  } else {
    const markdown = renderReport(report);
    const prettierOptions = (await resolveConfig(REPORT_FILE)) ?? {};
    writeFileSync(REPORT_FILE, await format(markdown, { ...prettierOptions, parser: 'markdown' }));
    writeFileSync(
      join(DOCS, CHART_FILE),
      chartSvg(checks, `Latchkey benchmarks, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`),
    );
    process.stdout.write(`Wrote docs/benchmarks.md and docs/${CHART_FILE}.\n`);
    if (missed.length > 0) exitCode = 1;
  }
} catch (error) {
  process.stderr.write(
    `The benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  exitCode = 1;
} finally {
  await baseline?.stop().catch(() => undefined);
  killAllChildren();
  rmSync(workDir, { recursive: true, force: true });
  clearTimeout(watchdog);
  if (settings.profileDir !== undefined) {
    process.stdout.write(`CPU profiles of the servers: ${settings.profileDir}\n`);
  }
}
process.exit(exitCode);

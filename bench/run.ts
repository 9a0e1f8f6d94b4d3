/**
 * `npm run bench`: every scenario of the benchmark issue against a baseline measured in the same
 * run, each target printed with its measured value and whether it is met; writes
 * docs/benchmarks.md and docs/benchmarks.svg. Exits 1 when a target is missed.
 *
 * The PostgreSQL scenarios (refresh on PostgreSQL, scale-out) run on the database at DATABASE_URL
 * when it is set, else on a throwaway cluster of the installed PostgreSQL, started when first
 * needed and removed at the end, also on failure, Ctrl-C or the time limit. Where PostgreSQL is
 * not installed they are skipped, and the run and the report say so.
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
import { findPostgresBinDir, INSTALL_HINT } from '../scripts/throwaway-postgres.ts';
import { type BenchPostgres, externalBenchPostgres, startBenchPostgres } from './bench-postgres.ts';
import { chartSvg } from './chart-svg.ts';
import { formatMb, formatMs, formatRate } from './format-figures.ts';
import { machineInfo } from './machine-info.ts';
import { killAllChildren } from './node-child.ts';
import { allChecks, renderReport, type ScenarioOutcome } from './report.ts';
import type { BenchSettings, Measurement, Scenario, ScenarioContext } from './scenario.ts';
import { coldStart } from './scenarios/cold-start.ts';
import { loginThroughput } from './scenarios/login-throughput.ts';
import { millionUsers } from './scenarios/million-users.ts';
import { refreshThroughput } from './scenarios/refresh-throughput.ts';
import { scaleOut } from './scenarios/scale-out.ts';
import { statusColdTokens } from './scenarios/status-cold-tokens.ts';
import { statusDuringLoginStorm } from './scenarios/status-during-login-storm.ts';
import { statusThroughput } from './scenarios/status-throughput.ts';
import { type Baseline, startBaseline } from './start-baseline.ts';
import { SERVER_SETTINGS } from './start-server.ts';
import { checkTarget, formatLimit, formatValue, type TargetCheck } from './target-check.ts';

const DOCS = new URL('../docs/', import.meta.url).pathname;
const REPORT_FILE = join(DOCS, 'benchmarks.md');
const CHART_FILE = 'benchmarks.svg';
/** The whole run must finish within 6 minutes; past this it is stopped and fails. */
const RUN_LIMIT_MS = 360_000;
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
const postgresBinDir = databaseUrl === undefined ? findPostgresBinDir() : undefined;
const hasPostgres = databaseUrl !== undefined || postgresBinDir !== undefined;
const settings: BenchSettings = {
  smoke: args.smoke,
  warmupSeconds: 1,
  durationSeconds: args.smoke ? 2 : 8,
  rounds: args.smoke ? 1 : 8,
  connections: 10,
  loginConnections: 8,
  hashConcurrency,
  profileDir: args.profile ? mkdtempSync(join(tmpdir(), 'latchkey-bench-profiles-')) : undefined,
};

const scenarios: Scenario[] = args.smoke
  ? [statusThroughput]
  : [
      coldStart,
      statusThroughput,
      statusColdTokens,
      loginThroughput,
      refreshThroughput('SQLite'),
      refreshThroughput('PostgreSQL'),
      statusDuringLoginStorm,
      millionUsers,
      scaleOut,
    ];
const only = args.only?.split(',').map((s) => s.trim());
const chosen = only === undefined ? scenarios : scenarios.filter((s) => only.includes(s.id));
if (only !== undefined && chosen.length === 0) {
  process.stderr.write(`--only: no such scenario; known: ${scenarios.map((s) => s.id)}\n`);
  process.exit(2);
}
const selected = chosen.filter((s) => hasPostgres || s.needsPostgres !== true);
const skipped = chosen
  .filter((s) => !selected.includes(s))
  .map((s) => `${s.title}: skipped, PostgreSQL is not installed on this machine.`);
const postgresNeeded = selected.some((s) => s.needsPostgres === true);
const skipNotice = `${INSTALL_HINT}\n${skipped.map((line) => `  ${line}\n`).join('')}`;
if (selected.length === 0) {
  process.stderr.write(`${skipNotice}Nothing left to run.\n`);
  process.exit(1);
}

/** Started by the first scenario that asks for a database; removed at the end, whatever happens. */
let postgresStart: Promise<BenchPostgres> | undefined;
function benchPostgres(): Promise<BenchPostgres> {
  if (postgresStart === undefined) {
    if (databaseUrl !== undefined) {
      postgresStart = Promise.resolve(externalBenchPostgres(databaseUrl));
    } else if (postgresBinDir !== undefined) {
      process.stdout.write(`  … starting a throwaway PostgreSQL from ${postgresBinDir}\n`);
      postgresStart = startBenchPostgres(postgresBinDir);
    } else {
      return Promise.reject(new Error(INSTALL_HINT));
    }
  }
  return postgresStart;
}

const workDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));

/**
 * For a signal or the time limit: ends every child, removes PostgreSQL (if started) and the
 * servers' data, and exits.
 */
async function abort(exitCode: number): Promise<never> {
  killAllChildren();
  // A cluster still starting is awaited, so that it is removed too (its commands are bounded).
  const postgres = await postgresStart?.catch(() => undefined);
  postgres?.removeSync();
  // Retried: a child killed a moment ago may still be writing there.
  rmSync(workDir, { recursive: true, force: true, maxRetries: 3 });
  process.exit(exitCode);
}

const watchdog = setTimeout(
  () => {
    process.stderr.write('The benchmark ran past its time limit; stopping.\n');
    void abort(1);
  },
  args.smoke ? SMOKE_LIMIT_MS : RUN_LIMIT_MS,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void abort(signal === 'SIGINT' ? 130 : 143));
}

const printCheck = (check: TargetCheck) =>
  process.stdout.write(
    `  [${check.met ? 'met' : 'MISSED'}] ${check.label}: ${formatValue(check.value, check.unit)} ` +
      `(target ${formatLimit(check)}); ${check.detail}\n`,
  );

const printMeasurement = (m: Measurement) =>
  process.stdout.write(
    `  ${m.label}: ` +
      (Number.isFinite(m.requestsPerSecond) ? `${formatRate(m.requestsPerSecond)}/s, ` : '') +
      `p50 ${formatMs(m.p50Ms)}, p99 ${formatMs(m.p99Ms)}\n`,
  );

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
  if (skipped.length > 0) {
    process.stdout.write(skipNotice);
  } else if (postgresNeeded) {
    process.stdout.write(
      databaseUrl === undefined
        ? `PostgreSQL: a throwaway cluster from ${postgresBinDir}, started when first needed.\n`
        : 'PostgreSQL: the database at DATABASE_URL.\n',
    );
  }
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
    async postgresDatabase() {
      return (await benchPostgres()).newDatabase();
    },
    log: (message) => process.stdout.write(`  … ${message}\n`),
  };

  for (const [i, scenario] of selected.entries()) {
    process.stdout.write(`\n${i + 1}/${selected.length} ${scenario.title}\n`);
    const result = await scenario.run(context);
    outcomes.push({ title: scenario.title, result });
    result.checks.forEach(printCheck);
    // Scale-out's throughput figures have no target of their own: shown as measured.
    if (scenario === scaleOut) result.measurements.forEach(printMeasurement);
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
  for (const line of skipped) process.stdout.write(`\nNot run: ${line}\n`);
  const postgres = await postgresStart;

  const report = {
    machine,
    settings,
    serverSettings: SERVER_SETTINGS,
    outcomes,
    overallChecks,
    skipped,
    postgres: postgres?.description,
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
  const postgres = await postgresStart?.catch(() => undefined);
  await postgres?.remove().catch((error: unknown) => {
    process.stderr.write(`warning: could not remove the throwaway PostgreSQL: ${String(error)}\n`);
  });
  rmSync(workDir, { recursive: true, force: true });
  clearTimeout(watchdog);
  if (settings.profileDir !== undefined) {
    process.stdout.write(`CPU profiles of the servers: ${settings.profileDir}\n`);
  }
}
process.exit(exitCode);

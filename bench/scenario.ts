import type { Baseline } from './start-baseline.ts';
import type { TargetCheck } from './target-check.ts';

export interface BenchSettings {
  /** Smoke mode: one short scenario, targets printed but not enforced. */
  smoke: boolean;
  warmupSeconds: number;
  durationSeconds: number;
  /** Loads compared with each other take turns this many times within durationSeconds. */
  rounds: number;
  /** Connections for the cheap routes (status, refresh, the baseline). */
  connections: number;
  /** Connections for logins: more than hashConcurrency, so the hash queue never runs dry. */
  loginConnections: number;
  /** HASH_CONCURRENCY of the servers, and of the raw hash-rate probe. */
  hashConcurrency: number;
  /** Set: servers run with --cpu-prof and write their profiles here. */
  profileDir: string | undefined;
}

export interface ScenarioContext {
  settings: BenchSettings;
  /** The bare route, started on first use with a body of `bodyBytes` bytes. */
  baseline(bodyBytes: number): Promise<Baseline>;
  /** A fresh, empty directory for one server's data, removed at the end of the run. */
  newDataDir(): string;
  /**
   * The URL of a PostgreSQL database for a scenario that needs one (PostgreSQL is started on
   * first use); only called by scenarios with `needsPostgres`.
   */
  postgresDatabase(): Promise<string>;
  /** Unique to this run, so accounts never collide on a shared PostgreSQL database. */
  runId: string;
  log(message: string): void;
}

/** Absolute figures of one load. */
export interface Measurement {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface ServerMemory {
  label: string;
  peakRssBytes: number;
}

export interface ScenarioResult {
  measurements: Measurement[];
  checks: TargetCheck[];
  memory: ServerMemory[];
  /** Anything the reader should know about this scenario's figures. */
  notes: string[];
}

export interface Scenario {
  id: string;
  title: string;
  /** Runs on PostgreSQL: skipped, saying so, where PostgreSQL is not installed. */
  needsPostgres?: boolean;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}

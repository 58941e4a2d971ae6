/**
 * `EngineOptions` and their validation. Owns defaults and the one place a Promenade package reads
 * `process.env`: the snapshot that defaults `processEnv` (every other package takes its settings as
 * options and never reads the environment). Knows nothing about how the options are used;
 * `engine.ts` wires them into the pieces. Invariant: every bad value is an
 * `EngineError("VALIDATION")` naming the option and the fix.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { wallClock } from "@promenade/workflow/clock";
import type { Clock } from "@promenade/workflow/clock";
import { EngineError } from "@promenade/workflow/errors";
import type { InferenceConfig } from "./agent-plug.ts";
import { isPlainObject } from "./internal/json.ts";
import { KEEP_EVERYTHING, parseRetentionPolicy } from "./retention-policy.ts";
import type { RetentionPolicy } from "./retention-policy.ts";

/** Options of `new Engine(options)`; every field but `dataDir` is optional. */
export interface EngineOptions {
  /** Root for everything: `promenade.db`, `runs/`, `skills/`, `persist/`, `mcp_tokens.json`. Created if missing. */
  dataDir: string;
  /**
   * Root of run working directories (`<workDir>/runs/<runId>`: the program and its workspace).
   * Default: `dataDir`. Set it apart when `dataDir` is a directory several machines share (the
   * nodes of a cluster): working directories then stay on this machine's disk while artifacts,
   * skills, durable workspace state and MCP tokens stay in `dataDir`. Created if missing.
   */
  workDir?: string;
  /** Secret source (e.g. a parsed `.env`), consulted before `processEnv`. Default `{}`. */
  env?: Record<string, string>;
  /**
   * The engine process environment: the fallback after `env` for secrets and provider keys, and
   * the base environment of every run process. Default: a snapshot of `process.env` taken by the
   * constructor.
   */
  processEnv?: Readonly<Record<string, string | undefined>>;
  /** Names where secrets come from in `SECRET_MISSING` hints. Default `"the engine environment"`. */
  envLabel?: string;
  /** Default model and provider table for `agent()` (`default_model`, `providers`…). Default `{}`. */
  inference?: InferenceConfig;
  /** Clock for every timestamp, timer and cron decision. Default: the wall clock. */
  clock?: Clock;
  /** Engine diagnostics sink. Default: writes `line + "\n"` to stderr. */
  log?: (line: string) => void;
  /** Crash restarts per run (integer ≥ 0). Default `2`, so at most 3 passes. */
  maxRestarts?: number;
  /** SIGTERM→SIGKILL window of a cancel, in ms (integer ≥ 0). Default `10000`. */
  cancelGraceMs?: number;
  /**
   * Script each run process executes. Default: this package's built `dist/run/child.js`. Its
   * programs import the SDK package beside it (`sdk/` in the entry's folder) when there is one,
   * else the installed `@promenade/workflow`.
   */
  childEntryPath?: string;
  /** Scheduler loop cadence in ms (integer > 0). Default `1000`. */
  tickIntervalMs?: number;
  /** Due cron fires older than this (ms, integer > 0) while running count as missed. Default `300000`. */
  lateFireThresholdMs?: number;
  /**
   * Pre-spawned run processes kept ready (integer ≥ 0); each serves exactly one run and is
   * refilled in the background. Default `0` (embedded); `promenade-server` turns it on.
   */
  warmPoolSize?: number;
  /**
   * Run processes booting at once (integer ≥ 1). Starting a run never waits for its process: the
   * process is created after `startRun` returned, one per turn of the event loop, in the order the
   * runs started, while fewer than this many are booting. Default: the machine's cores.
   */
  maxBooting?: number;
  /**
   * How much lower than the engine's CPU priority run processes run: niceness added to each
   * (integer 0–19, capped at 19, the lowest priority). With, say, 10, busy runs do not starve the
   * engine, so it keeps answering while many runs boot and work — but they also yield to every
   * other process of the machine. Default `0`: the engine's priority.
   */
  runNiceness?: number;
  /**
   * Ceiling on the agent's built-in tools (file, shell, web tools and `subagent`): `"all"`
   * (default), `"read-only"` or `"none"`. Each `agent()` call's `builtins` selection is narrowed
   * to it, never widened; naming a tool outside it fails `UNSUPPORTED`.
   */
  builtins?: "all" | "read-only" | "none";
  /**
   * The search backend of the agent's `web_search` built-in (an http(s) URL). The engine
   * process queries `GET <url>?q=<query>&limit=<n>`, which must answer JSON
   * `{ "results": [{ "title", "url", "snippet"? }] }`; the URL never reaches a run process.
   * Absent (default): `web_search` is not advertised.
   */
  webSearchUrl?: string;
  /**
   * The engine-wide retention policy for terminal runs (a workflow's `config.retention`
   * overrides it): `off`, a duration (`30d`, `12h`), `last <n>`, or both (`30d, last 1000`).
   * Applied by a background sweep once the engine is started. Default `off` (keep everything).
   */
  retention?: string;
  /** Time between retention sweeps (integer ms ≥ 1). Default `600000` (10 minutes). */
  retentionIntervalMs?: number;
  /**
   * Top-level runs per retention batch (one transaction each; integer 1–1000). Default `50`: small
   * enough that a batch holds the event loop for a short moment, so API latency stays near idle.
   */
  retentionBatchSize?: number;
  /**
   * Cluster mode (PostgreSQL only): this engine is one node of many sharing the database. Each
   * node claims queued runs from the shared `runs` table, holds each run it executes under a
   * lease it renews every `leaseMs / 3`, and takes over (restarts from the top) the runs of a node
   * whose lease expired. `nodeId` names the node (default `<hostname>:<pid>`; give a fixed one so
   * a restarted node takes its own runs back at once); `leaseMs` is an integer ≥ 1000, default
   * `30000`. Absent (default): one engine per database.
   */
  cluster?: { nodeId?: string; leaseMs?: number };
}

/** Cluster settings with their defaults applied. */
export interface ClusterSettings {
  nodeId: string;
  leaseMs: number;
}

/** `EngineOptions` with every default applied. */
export interface ResolvedEngineOptions {
  dataDir: string;
  workDir: string;
  env: Readonly<Record<string, string>>;
  processEnv: Readonly<Record<string, string | undefined>>;
  envLabel: string;
  inference: InferenceConfig;
  clock: Clock;
  log: (line: string) => void;
  maxRestarts: number;
  cancelGraceMs: number;
  childEntryPath: string;
  /** The SDK package the run directories link (the default entry's own), or the installed one. */
  sdkPackageDir: string | null;
  tickIntervalMs: number;
  lateFireThresholdMs: number;
  warmPoolSize: number;
  /** `undefined`: the supervisor's default (the machine's cores). */
  maxBooting: number | undefined;
  runNiceness: number;
  builtins: "all" | "read-only" | "none";
  webSearchUrl: string | null;
  retention: RetentionPolicy;
  retentionIntervalMs: number;
  retentionBatchSize: number;
  /** `null` outside a cluster. */
  cluster: ClusterSettings | null;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  "dataDir",
  "workDir",
  "env",
  "processEnv",
  "envLabel",
  "inference",
  "clock",
  "log",
  "maxRestarts",
  "cancelGraceMs",
  "childEntryPath",
  "tickIntervalMs",
  "lateFireThresholdMs",
  "warmPoolSize",
  "maxBooting",
  "runNiceness",
  "builtins",
  "webSearchUrl",
  "retention",
  "retentionIntervalMs",
  "retentionBatchSize",
  "cluster",
]);

/**
 * The engine package's shipped run-process entry. From the build (`dist/index.js`) it is
 * `dist/run/child.js`; from sources (`src/options.ts`) it is still the built `dist/run/child.js`.
 */
export function defaultChildEntryPath(): string {
  const here = import.meta.url;
  const relative = here.endsWith(".ts") ? "../dist/run/child.js" : "./run/child.js";
  return fileURLToPath(new URL(relative, here));
}

/**
 * The SDK package a run-process entry ships beside it (`sdk/` next to the entry, as
 * `dist/run/sdk` beside the default entry): the SDK bundled with that runtime, which the programs
 * of its run processes must import. `null` when there is none (the installed SDK is used).
 */
export function sdkPackageDirOf(childEntryPath: string): string | null {
  const dir = join(dirname(childEntryPath), "sdk");
  return existsSync(join(dir, "package.json")) ? dir : null;
}

function batchSize(value: number | undefined): number {
  const size = integer(value ?? 50, "retentionBatchSize", 1);
  if (size > 1000) throw invalid("retentionBatchSize", "must be at most 1000");
  return size;
}

/** Apply defaults and validate. Throws `VALIDATION` naming the first bad option. */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  if (!isPlainObject(options)) {
    throw invalid("options", "must be an object like { dataDir: './data' }");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new EngineError(
        "VALIDATION",
        `Unknown engine option "${key}".`,
        `Known options: ${[...KNOWN_OPTIONS].join(", ")}.`,
      );
    }
  }
  const dataDir = nonEmptyString(options.dataDir, "dataDir");
  const workDir =
    options.workDir === undefined ? dataDir : nonEmptyString(options.workDir, "workDir");
  const env = stringRecord(options.env ?? {}, "env");
  const processEnv =
    options.processEnv === undefined ? snapshotProcessEnv() : envRecord(options.processEnv);
  const envLabel = nonEmptyString(options.envLabel ?? "the engine environment", "envLabel");
  if (options.inference !== undefined && !isPlainObject(options.inference)) {
    throw invalid(
      "inference",
      "must be an object of inference settings, e.g. { default_model: '…', providers: { … } }",
    );
  }
  const clock = options.clock ?? wallClock;
  if (
    typeof clock !== "object" ||
    clock === null ||
    typeof clock.now !== "function" ||
    typeof clock.sleep !== "function"
  ) {
    throw invalid("clock", "must be { now(): number; sleep(ms, signal?): Promise<void> }");
  }
  const log = options.log ?? defaultLog;
  if (typeof log !== "function") throw invalid("log", "must be a function (line: string) => void");
  const childEntryPath =
    options.childEntryPath === undefined
      ? defaultChildEntryPath()
      : nonEmptyString(options.childEntryPath, "childEntryPath");
  const entryPath = isAbsolute(childEntryPath) ? childEntryPath : resolve(childEntryPath);
  const builtins = options.builtins ?? "all";
  if (builtins !== "all" && builtins !== "read-only" && builtins !== "none") {
    throw invalid(
      "builtins",
      `must be "all", "read-only" or "none" (got ${JSON.stringify(builtins)})`,
    );
  }
  return {
    dataDir: resolve(dataDir),
    workDir: resolve(workDir),
    env,
    processEnv,
    envLabel,
    inference: options.inference ?? {},
    clock,
    log,
    maxRestarts: integer(options.maxRestarts ?? 2, "maxRestarts", 0),
    cancelGraceMs: integer(options.cancelGraceMs ?? 10_000, "cancelGraceMs", 0),
    childEntryPath: entryPath,
    sdkPackageDir: sdkPackageDirOf(entryPath),
    tickIntervalMs: integer(options.tickIntervalMs ?? 1000, "tickIntervalMs", 1),
    lateFireThresholdMs: integer(options.lateFireThresholdMs ?? 300_000, "lateFireThresholdMs", 1),
    warmPoolSize: integer(options.warmPoolSize ?? 0, "warmPoolSize", 0),
    maxBooting:
      options.maxBooting === undefined ? undefined : integer(options.maxBooting, "maxBooting", 1),
    runNiceness: niceness(options.runNiceness ?? 0),
    builtins,
    webSearchUrl:
      options.webSearchUrl === undefined
        ? null
        : webSearchUrl(nonEmptyString(options.webSearchUrl, "webSearchUrl")),
    retention:
      options.retention === undefined
        ? KEEP_EVERYTHING
        : parseRetentionPolicy(options.retention, 'Engine option "retention"'),
    retentionIntervalMs: integer(options.retentionIntervalMs ?? 600_000, "retentionIntervalMs", 1),
    retentionBatchSize: batchSize(options.retentionBatchSize),
    cluster: clusterSettings(options.cluster),
  };
}

function clusterSettings(value: EngineOptions["cluster"]): ClusterSettings | null {
  if (value === undefined) return null;
  if (!isPlainObject(value)) throw invalid("cluster", "must be an object like { nodeId, leaseMs }");
  for (const key of Object.keys(value)) {
    if (key !== "nodeId" && key !== "leaseMs") {
      throw invalid("cluster", `has an unknown field "${key}" (known: nodeId, leaseMs)`);
    }
  }
  const nodeId =
    value.nodeId === undefined
      ? `${hostname()}:${String(process.pid)}`
      : nonEmptyString(value.nodeId, "cluster.nodeId");
  if (nodeId.length > 200) throw invalid("cluster.nodeId", "must be at most 200 characters");
  return { nodeId, leaseMs: integer(value.leaseMs ?? 30_000, "cluster.leaseMs", 1000) };
}

function webSearchUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("webSearchUrl", "must be an http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalid("webSearchUrl", "must be an http or https URL");
  }
  return value;
}

function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

function snapshotProcessEnv(): Readonly<Record<string, string | undefined>> {
  // The one exception to "packages never read process.env": the default of processEnv, so
  // embedders get Boardwalk's fallback (secrets and provider keys from the environment) without
  // wiring anything.
  return Object.freeze({ ...process.env });
}

function invalid(option: string, requirement: string): EngineError {
  return new EngineError(
    "VALIDATION",
    `Engine option "${option}" ${requirement}.`,
    `Fix "${option}" in the options passed to new Engine(…).`,
  );
}

function nonEmptyString(value: unknown, option: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw invalid(option, "must be a non-empty string");
  }
  return value;
}

function niceness(value: unknown): number {
  const n = integer(value, "runNiceness", 0);
  if (n > 19) throw invalid("runNiceness", `must be an integer from 0 to 19 (got ${String(n)})`);
  return n;
}

function integer(value: unknown, option: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw invalid(option, `must be an integer ≥ ${min} (got ${String(value)})`);
  }
  return value;
}

function stringRecord(value: unknown, option: string): Readonly<Record<string, string>> {
  if (!isPlainObject(value)) throw invalid(option, "must be an object of string values");
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw invalid(option, `must map names to strings ("${key}" is a ${typeof item})`);
    }
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

function envRecord(value: unknown): Readonly<Record<string, string | undefined>> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("processEnv", "must be an object of string values (e.g. process.env)");
  }
  const copy: Record<string, string | undefined> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item !== undefined && typeof item !== "string") {
      throw invalid("processEnv", `must map names to strings ("${key}" is a ${typeof item})`);
    }
    copy[key] = item;
  }
  return Object.freeze(copy);
}

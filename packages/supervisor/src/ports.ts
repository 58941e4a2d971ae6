/**
 * What the supervisor needs from the rest of the engine, in its own words (STYLE §4): the narrow
 * store port over a type-only import of `@promenade/store`, the clock, the process launcher and
 * the injected host-method / pricing functions. Nothing here is a value import against the
 * dependency arrows: the engine wires concrete pieces in, the supervisor never `new`s them.
 */
import type { ChildProcess } from "node:child_process";
import type {
  ArtifactRow,
  EventRow,
  RunErrorShape,
  RunRow,
  Store,
  TriggerKind,
  WorkflowRow,
} from "@promenade/store";

export type { ArtifactRow, EventRow, RunErrorShape, RunRow, TriggerKind, WorkflowRow };

/**
 * The slice of the store the supervisor uses (spec 02 §4.8). The SQLite store satisfies it
 * structurally; `describeSupervisorStore` (from `./testing`) checks any implementation.
 */
export type SupervisorStore = Pick<
  Store,
  | "transaction"
  | "afterCommit"
  | "getWorkflow"
  | "getWorkflowById"
  | "getRun"
  | "listRuns"
  | "createRun"
  | "updateRunStatus"
  | "incrementRestarts"
  | "addRunUsage"
  | "getRunUsage"
  | "appendEvents"
  | "maxCursor"
  | "createArtifact"
>;

/** One clock per engine (spec 02 §2.2): persisted timestamps, event `t`, grace and budget timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Arguments of {@link LaunchFunction}: the run process's entry, working directory and env. */
export interface LaunchArgs {
  childEntryPath: string;
  cwd: string;
  env: Record<string, string>;
}

/**
 * Starts one run process. It must have an IPC channel (`process.send` in the child) with JSON
 * serialization and piped stdout/stderr. Default: `spawn(process.execPath, [childEntryPath])`
 * (spec 02 §5.17). Tests fake crashes through it; source-mode tests add `--conditions`.
 */
export type LaunchFunction = (args: LaunchArgs) => ChildProcess;

/** Token usage of one model call as the run process reports it (spec 03 §1.13). */
export interface UsageReport {
  inputTokens?: number;
  outputTokens?: number;
}

/** Prices one usage report in integer micro-USD (the engine passes `@promenade/agent`'s rates). */
export type PriceUsage = (modelRef: string, usage: UsageReport) => number;

/** Names of the host methods the engine injects (spec 02 §5.1). */
export type InjectedHostMethodName = "resolve_model" | "mcp_token";

/** Context handed to an injected host method: the calling run and its workflow row. */
export interface HostMethodContext {
  runId: string;
  workflow: WorkflowRow;
}

/** An injected host method: resolves to a JSON value, or rejects with an `EngineError`. */
export type HostMethod = (
  args: Record<string, unknown>,
  ctx: HostMethodContext,
) => Promise<unknown>;

/**
 * What the supervisor needs from the rest of the engine, in its own words: the store port, the
 * clock, the process launcher and the injected host-method / pricing functions. Row shapes come
 * from `@promenade/workflow/records` (their one owner); nothing here names a store package. The
 * engine wires concrete pieces in, the supervisor never `new`s them.
 */
import type { ChildProcess } from "node:child_process";
import type { JsonValue, RunEvent } from "@promenade/workflow";
import type {
  ArtifactRow,
  Awaitable,
  EventRow,
  HumanInputRequestRow,
  PassReason,
  RunErrorShape,
  RunRow,
  RunStatus,
  RunUsage,
  TriggerKind,
  WorkflowRow,
  WorkflowVersionRow,
} from "@promenade/workflow/records";

export type {
  ArtifactRow,
  Awaitable,
  EventRow,
  HumanInputRequestRow,
  PassReason,
  RunErrorShape,
  RunRow,
  RunStatus,
  RunUsage,
  TriggerKind,
  WorkflowRow,
};

/** A run the supervisor creates: a `workflows.call` / `workflows.run` child. */
export interface NewRun {
  workflowId: string;
  triggerKind: TriggerKind;
  /** Stored as `null` when absent. */
  input?: JsonValue;
  parentRunId?: string;
  /** Find-or-create on `(parentRunId ?? none, idempotencyKey)`. */
  idempotencyKey?: string;
}

/** One stamped event to persist at its cursor. */
export interface EventAppend {
  /** Integer ≥ 1, strictly increasing per run. */
  cursor: number;
  event: RunEvent;
}

/** One status transition of a run, committed with its events as one unit. */
export interface StatusChange {
  to: RunStatus;
  /** Apply only when the run's current status is one of these. */
  expect: readonly RunStatus[];
  output?: JsonValue;
  error?: RunErrorShape;
  /** Only applied while the run has no `startedAt` (the first pass wins). */
  startedAt?: number;
  endedAt?: number;
  /**
   * Why the pass this status belongs to started (set on a pass's `pending` and `running`),
   * written on the `run_status` event.
   */
  reason?: PassReason;
  /**
   * An error written on the `run_status` event only, when `error` is absent (the row's `error` is
   * untouched): the failed attempt a `retry` pass follows.
   */
  eventError?: RunErrorShape;
  /**
   * Events the executing pass stamped before the transition. They are committed first, whether
   * or not the status applies, so cursor order stays commit order.
   */
  pending?: readonly EventAppend[];
  /**
   * Cursor and seq of the `run_status` event, from the executing run's envelope. Absent for a
   * run no process is executing: the store stamps it in a fresh block after the highest cursor.
   */
  stamp?: { cursor: number; seq: number };
}

/** Usage to add to a run's tallies; each a non-negative integer. */
export interface UsageDelta {
  tokensIn?: number;
  tokensOut?: number;
  usdMicros?: number;
}

/** A file a run wrote through `artifacts.write`, to be recorded. */
export interface NewArtifact {
  runId: string;
  /** Plain file name. */
  name: string;
  contentType: string;
  /** Absolute path of the bytes on disk. */
  path: string;
  /** Bytes, integer ≥ 0. */
  size: number;
  metadata?: Record<string, unknown>;
}

/** A human-input gate the executing pass opened, to be recorded with its event. */
export interface NewInputRequest {
  /** The gate's name, unique within the run. */
  key: string;
  prompt: string;
  /** The (checked) answer form. */
  inputSpec: JsonValue;
  assignees?: readonly string[] | null;
  /** The timeout in ms: `expiresAt` is the row's creation time plus this. `null`: none. */
  timeoutMs?: number | null;
  /** Events stamped before the request, committed first. */
  pending?: readonly EventAppend[];
  /** Cursor and seq of the `human_input_requested` event; absent: a fresh block. */
  stamp?: { cursor: number; seq: number };
}

/** How a pending human-input request closes: answered, or timed out. */
export interface InputSettlement {
  status: "resolved" | "expired";
  /** The normalized answer; a timeout's default answer, or `null` for a timeout that fails. */
  response?: JsonValue | null;
  respondedBy?: string | null;
  /** Events stamped before the settlement, committed first. */
  pending?: readonly EventAppend[];
  /** Cursor and seq of the `human_input_resolved` event; absent: a fresh block. */
  stamp?: { cursor: number; seq: number };
}

/** Which runs the boot recovery sweep lists. */
export interface RunsInStatus {
  /** Only runs in one of these statuses; `[]` matches nothing. */
  statuses: readonly RunStatus[];
  /** `"oldest"`: creation order; `"newest"`: the reverse. */
  order: "oldest" | "newest";
}

/**
 * What the supervisor needs from persistence. Every method may return a value or a promise
 * ({@link Awaitable}); the supervisor awaits each. Each method is one atomic unit (one
 * transaction): the supervisor never holds a transaction open across calls, and relies on
 * exactly these guarantees, checked by `describeSupervisorStore` from `./testing`:
 *
 * - `createRun` writes a created run's `queued` `run_status` event (cursor 1, seq 1, `turnId` =
 *   run id) with the row; a found run (same parent and idempotency key) writes nothing.
 * - `commitStatus` appends `pending`, then applies the transition only when the current status
 *   is in `expect`, writing the `run_status` event (with `error: { code, message }` when given)
 *   at `stamp` or in a fresh block. It returns the updated row, or `null` when it did not apply.
 *   A terminal transition also cancels the run's pending human-input requests.
 * - `createInputRequest` appends `pending`, then finds the run's request with the key (returned
 *   as it is, any status, nothing more written) or inserts it `pending` with its
 *   `human_input_requested` event.
 * - `settleInputRequest` appends `pending`, then closes the request only while it is `pending`,
 *   with its `human_input_resolved` event; `null` otherwise (the first settlement wins).
 * - `appendEvents` is all-or-nothing; an existing cursor is a `CONFLICT`.
 * - `addRunUsage` returns the tallies after the addition; `addActiveMs` returns the run's active
 *   time after the addition; `scheduleRetry` counts one retry, sets `retryAt` and returns the new
 *   `retries`; `clearRetry` sets `retryAt` back to `null`.
 *
 * Unknown runs are `NOT_FOUND` (for writes); bad numbers are `VALIDATION`.
 */
export interface SupervisorStore {
  /** The run, or `null`. */
  getRun(id: string): Awaitable<RunRow | null>;
  /** The workflow deployed under `slug`, or `null`. */
  getWorkflow(slug: string): Awaitable<WorkflowRow | null>;
  /** The workflow with this id, or `null`. */
  getWorkflowById(id: string): Awaitable<WorkflowRow | null>;
  /** The workflow's version with this number (its program, manifest, config), or `null`. */
  getWorkflowVersion(workflowId: string, version: number): Awaitable<WorkflowVersionRow | null>;
  /** Runs in the given statuses, in the given creation order. */
  listRuns(filter: RunsInStatus): Awaitable<RunRow[]>;
  /** Creates a `queued` run and its `queued` event, or finds the run with the same key. */
  createRun(args: NewRun): Awaitable<{ run: RunRow; created: boolean }>;
  /** One status transition with its events; the updated row, or `null` when not applied. */
  commitStatus(runId: string, change: StatusChange): Awaitable<RunRow | null>;
  /** Appends a batch of stamped events atomically; an empty batch is a no-op. */
  appendEvents(runId: string, rows: readonly EventAppend[]): Awaitable<void>;
  /** `restarts + 1`; returns the new value. */
  incrementRestarts(id: string): Awaitable<number>;
  /** Adds to the usage tallies; returns the new totals. */
  addRunUsage(id: string, usage: UsageDelta): Awaitable<RunUsage>;
  /** Adds `ms` (integer ≥ 0) to the time the run's processes were alive; the new total. */
  addActiveMs(id: string, ms: number): Awaitable<number>;
  /** `retries + 1` with the next attempt due at `at` (epoch ms); returns the new `retries`. */
  scheduleRetry(id: string, at: number): Awaitable<number>;
  /** `retryAt` back to `null`: the waiting attempt started. */
  clearRetry(id: string): Awaitable<void>;
  /** The run's highest cursor, `0` when it has no events. */
  maxCursor(runId: string): Awaitable<number>;
  /** Records an artifact. */
  createArtifact(args: NewArtifact): Awaitable<ArtifactRow>;
  /** The run's human-input request with this key, or `null`. */
  getInputRequest(runId: string, key: string): Awaitable<HumanInputRequestRow | null>;
  /** Finds the request with `args.key`, or inserts it `pending` with its event. */
  createInputRequest(
    runId: string,
    args: NewInputRequest,
  ): Awaitable<{ request: HumanInputRequestRow; created: boolean }>;
  /** Closes a pending request with its event; `null` when none is pending. */
  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputSettlement,
  ): Awaitable<HumanInputRequestRow | null>;
  /**
   * A store shared by a cluster's nodes: writes the `human_input_resolved` event of an answer
   * another node stored for this run (after `pending`, at `stamp`), or nothing and `null` when
   * the request has no such answer waiting for its event. Absent on a store of one engine.
   */
  announceInputAnswer?(
    runId: string,
    key: string,
    options: { pending?: readonly EventAppend[]; stamp?: { cursor: number; seq: number } },
  ): Awaitable<HumanInputRequestRow | null>;
}

/** Arguments of {@link LaunchFunction}: the run process's entry, working directory and env. */
export interface LaunchArgs {
  childEntryPath: string;
  cwd: string;
  env: Record<string, string>;
}

/**
 * Starts one run process. It must have an IPC channel (`process.send` in the child) with JSON
 * serialization and piped stdout/stderr. Default: `spawn(process.execPath, [childEntryPath])`.
 * Tests fake crashes through it; source-mode tests add `--conditions`.
 */
export type LaunchFunction = (args: LaunchArgs) => ChildProcess;

/**
 * Token usage of one model call as the run process reports it. `inputTokens` includes the cache
 * reads and writes, `outputTokens` the reasoning tokens.
 */
export interface UsageReport {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
  reasoningTokens?: number;
}

/** The price of one model call, with where its rate came from. */
export interface PricedUsage {
  /** Integer micro-USD. */
  usdMicros: number;
  rate: { source: "built-in" | "override" | "default"; version: string };
  /** True when the rate is a default for a model no rate row matched. */
  estimated: boolean;
}

/**
 * Prices one model call in integer micro-USD (the engine passes `@promenade/agent`'s rates); a
 * plain number is a price without a rate source.
 */
export type PriceUsage = (modelRef: string, usage: UsageReport) => number | PricedUsage;

/** Names of the host methods the engine injects. */
export type InjectedHostMethodName = "resolve_model" | "mcp_token" | "web_search";

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

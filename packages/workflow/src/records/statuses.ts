/**
 * The run-status vocabulary, owned here and nowhere else: the list in lifecycle order, the
 * terminal set (final: nothing is stamped for a run after its terminal event) and the active set
 * (a run that holds a process or a concurrency slot) — and why a pass of a run started.
 */

/** Every run status, in lifecycle order. */
export const RUN_STATUSES = [
  "queued",
  "pending",
  "running",
  "awaiting_input",
  "waiting_for_child",
  "completed",
  "failed",
  "cancelled",
  "cancelling",
] as const;

/** A run's status. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Every status a reader accepts: the written ones plus `sleeping`, which releases of the
 * Boardwalk line gave a run parked in a long sleep. Promenade holds sleeps in `running` and never
 * writes `sleeping`, but a program, client or stored stream of that line may filter by it or carry
 * it, so status filters and the lenient event reader take it (a filter on it matches no run).
 */
export const READABLE_RUN_STATUSES = [...RUN_STATUSES, "sleeping"] as const;

/** A status a reader accepts: a {@link RunStatus} or `sleeping`. */
export type ReadableRunStatus = (typeof READABLE_RUN_STATUSES)[number];

const WRITTEN: ReadonlySet<string> = new Set(RUN_STATUSES);

/** True for a status Promenade writes (every readable status but `sleeping`). */
export function isWrittenStatus(status: string): status is RunStatus {
  return WRITTEN.has(status);
}

/** The final statuses. */
export const TERMINAL_STATUSES = [
  "completed",
  "failed",
  "cancelled",
] as const satisfies readonly RunStatus[];

/** A final status. */
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/**
 * Statuses of a run that was dispatched and has not ended: it holds a slot of its workflow. A run
 * held waiting for a person (`awaiting_input`) or for a child run it called
 * (`waiting_for_child`) keeps its process, so it counts too.
 */
export const ACTIVE_STATUSES = [
  "pending",
  "running",
  "awaiting_input",
  "waiting_for_child",
  "cancelling",
] as const satisfies readonly RunStatus[];

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminal(status: RunStatus): status is TerminalStatus {
  return TERMINAL.has(status);
}

/**
 * Why a pass (one run-process attempt) started, carried by the `pending` and `running` statuses
 * of that pass: the run's first start, a restart after its process crashed, a recovery by the
 * next engine of a run an earlier engine left behind, a takeover by another node of a cluster, or
 * a new attempt after the program failed with an error its retry policy retries.
 */
export const PASS_REASONS = [
  "first_start",
  "crash_restart",
  "engine_restart",
  "failover",
  "retry",
] as const;

/** Why a pass started. */
export type PassReason = (typeof PASS_REASONS)[number];

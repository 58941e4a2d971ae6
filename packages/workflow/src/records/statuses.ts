/**
 * The run-status vocabulary, owned here and nowhere else: the list in lifecycle order, the
 * terminal set (final: nothing is stamped for a run after its terminal event) and the active set
 * (a run that holds a process or a concurrency slot).
 */

/** Every run status, in lifecycle order. */
export const RUN_STATUSES = [
  "queued",
  "pending",
  "running",
  "awaiting_input",
  "completed",
  "failed",
  "cancelled",
  "cancelling",
] as const;

/** A run's status. */
export type RunStatus = (typeof RUN_STATUSES)[number];

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
 * held waiting for a person (`awaiting_input`) keeps its process, so it counts too.
 */
export const ACTIVE_STATUSES = [
  "pending",
  "running",
  "awaiting_input",
  "cancelling",
] as const satisfies readonly RunStatus[];

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminal(status: RunStatus): status is TerminalStatus {
  return TERMINAL.has(status);
}

/**
 * Status transitions of an executing run. Each is issued through the run's event log (buffered
 * events go first, the `run_status` event takes the envelope's next cursor) and guarded by
 * `expect`, so a run never ends twice; the owner's view (`status`, `recorded`, `ended`) is
 * updated as the write is issued and as the store confirms it.
 */
import { andThen, isTerminal } from "@promenade/workflow/records";
import type { JsonValue } from "@promenade/workflow";
import { assertOpen, logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Transition } from "./event-log.ts";
import type { Execution } from "./execution.ts";
import { unknownRun } from "./internal/errors.ts";
import type { Awaitable, RunErrorShape, RunRow, RunStatus } from "./ports.ts";

/** The fields a transition may set besides the status. */
export type StatusFields = Omit<Transition, "to" | "expect">;

/**
 * Statuses of a run whose process is alive: `running`, or held waiting for a person or for a
 * child run it called. Every transition out of a live pass (its outcome, a cancel, a crash
 * restart) expects one of these.
 */
export const LIVE: readonly RunStatus[] = ["running", "awaiting_input", "waiting_for_child"];

/** A terminal status the supervisor writes. */
export type EndStatus = "completed" | "failed" | "cancelled";

/**
 * Issues a transition now (queued behind the run's earlier writes). Resolves with the updated
 * row, or `null` when the run was not in one of `expect` — the run then belongs to someone else
 * and this owner stops. Synchronous over a synchronous store with nothing in flight.
 */
export function writeStatus(
  ctx: SupervisorContext,
  exec: Execution,
  to: RunStatus,
  expect: readonly RunStatus[],
  fields: StatusFields = {},
): Awaitable<RunRow | null> {
  assertOpen(ctx);
  const terminal = isTerminal(to);
  exec.status = to;
  if (terminal) exec.ended = true;
  return andThen(exec.log.commitStatus({ to, expect, ...fields }, { terminal }), (row) => {
    if (row !== null) exec.recorded = row.status;
    return row;
  });
}

/** The terminal transition, with `endedAt`; `null` when the run was not in `expect`. */
export async function finishTerminal(
  ctx: SupervisorContext,
  exec: Execution,
  to: EndStatus,
  expect: readonly RunStatus[],
  fields: { output?: JsonValue; error?: RunErrorShape },
): Promise<RunRow | null> {
  return writeStatus(ctx, exec, to, expect, { ...fields, endedAt: ctx.clock.now() });
}

/** The terminal transition, or — when someone else moved the run — the run as it is (logged). */
export async function finishTerminalOrCurrent(
  ctx: SupervisorContext,
  exec: Execution,
  to: EndStatus,
  expect: readonly RunStatus[],
  fields: { output?: JsonValue; error?: RunErrorShape },
): Promise<RunRow> {
  const row = await finishTerminal(ctx, exec, to, expect, fields);
  if (row !== null) return row;
  const now = await current(ctx, exec);
  logRun(ctx, exec, `expected to end ${to} but it is ${now.status}`);
  return now;
}

/** The run as it is now, for an owner that stops because someone else moved the run. */
export async function current(ctx: SupervisorContext, exec: Execution): Promise<RunRow> {
  exec.ended = true;
  return requireRun(ctx, exec.runId);
}

/** The run's row; `NOT_FOUND` when the store does not know it. */
export function requireRun(ctx: SupervisorContext, runId: string): Awaitable<RunRow> {
  return andThen(ctx.store.getRun(runId), (run) => {
    if (run === null) throw unknownRun(runId);
    return run;
  });
}

/**
 * The held statuses of a live run: while a pass waits, its run shows what it waits for. At least
 * one human-input gate waiting → `awaiting_input`; else at least one `workflows.call` waiting for
 * its child → `waiting_for_child`; else `running`. Recomputed whenever a wait starts or ends; a
 * change writes the row and emits one `run_status`, no change writes nothing. A run that is
 * ending, being cancelled or whose pass already reported is left alone: its outcome settles it.
 */
import { attempt } from "@promenade/workflow/records";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass } from "./execution.ts";
import type { RunStatus } from "./ports.ts";
import { LIVE, writeStatus } from "./transitions.ts";

/** The status a live pass should show, from what it waits for. */
export function heldStatusOf(pass: Pass): RunStatus {
  if ([...pass.gates.values()].some((gate) => gate.waiting)) return "awaiting_input";
  if (pass.childWaits > 0) return "waiting_for_child";
  return "running";
}

/**
 * Writes the live run's status when its waits changed it. `running` carries the pass's reason,
 * like the pass's first `running`.
 */
export function syncHeldStatus(ctx: SupervisorContext, exec: Execution): void {
  if (exec.ended || exec.cancelRequested || ctx.isClosing()) return;
  const pass = exec.pass;
  // A pass that reported, breached a budget or died is about to be settled by its outcome.
  if (pass === null || pass.report !== null || pass.budget !== null || pass.exited) return;
  const current = exec.status;
  if (current === null || !LIVE.includes(current)) return;
  const want = heldStatusOf(pass);
  if (current === want) return;
  void attempt(
    () =>
      writeStatus(
        ctx,
        exec,
        want,
        [current],
        want === "running" ? { reason: exec.passReason } : {},
      ),
    () => null, // the log recorded the failure and stopped the process
  );
}

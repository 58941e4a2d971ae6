/**
 * Run status vocabulary shared by supervisor and engine (spec 02 §2.3). Terminal statuses are
 * final: nothing is stamped for a run after its terminal event.
 */
import type { RunStatus } from "@promenade/workflow";

const TERMINAL: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL.has(status);
}

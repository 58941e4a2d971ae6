/** Run-status helpers shared by the routes and the WebSocket channel. */
import type { RunStatus } from "@promenade/workflow";

const TERMINAL: ReadonlySet<string> = new Set<RunStatus>(["completed", "failed", "cancelled"]);

/** True for `completed`, `failed` and `cancelled` (spec 02 §2.3). */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

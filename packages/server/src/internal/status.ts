/** Run-status helpers shared by the routes and the WebSocket channel. */
import { ACTIVE_STATUSES, TERMINAL_STATUSES, type RunStatus } from "@promenade/workflow/records";

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_STATUSES);

/** True for the final statuses (`completed`, `failed`, `cancelled`), given any string. */
export function isTerminalStatus(status: string): boolean {
  return TERMINAL.has(status);
}

/** Every non-terminal status: queued, then the statuses of a run that holds a slot. */
export const NON_TERMINAL_STATUSES: readonly RunStatus[] = ["queued", ...ACTIVE_STATUSES];

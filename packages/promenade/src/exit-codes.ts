/**
 * The CLI's exit codes, one table: 0 success or a completed run, 1 a failed run or a command
 * that could not complete, 2 a wrong command line, 130 a cancelled run (the shell's code for
 * Ctrl-C).
 */
import type { TerminalStatus } from "@promenade/workflow/records";

/** Exit codes by meaning. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** The exit code a command reports for a run that ended with `status`. */
export function exitCodeFor(status: TerminalStatus): number {
  switch (status) {
    case "completed":
      return EXIT.ok;
    case "cancelled":
      return EXIT.cancelled;
    case "failed":
      return EXIT.failed;
  }
}

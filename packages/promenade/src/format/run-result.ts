/**
 * The end of `promenade run`: the run's output on stdout (pretty JSON, nothing when the program
 * declared none) and a one-line outcome on stderr — or, with `--json`, the whole run object on
 * stdout. Returns the exit code for the run's status.
 */
import type { TerminalStatus } from "@promenade/workflow/records";
import type { ApiRun } from "../client/api-shapes.ts";
import { exitCodeFor } from "../exit-codes.ts";
import type { CliIo } from "../io.ts";
import { colorEnabled, createStyle } from "./color.ts";
import { formatErrorStack } from "./error-stack.ts";
import { styleStatus } from "./status.ts";
import { formatDuration } from "./time.ts";

/** The run fields the result needs. */
export type FinishedRun = Pick<
  ApiRun,
  "id" | "status" | "output" | "error" | "startedAt" | "endedAt" | "tokensIn" | "tokensOut"
>;

/** Print a finished run; returns its exit code (0 completed, 1 failed, 130 cancelled). */
export function printRunResult(
  io: CliIo,
  run: FinishedRun,
  options: { json: boolean; full?: unknown },
): number {
  const status = run.status as TerminalStatus;
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ run: options.full ?? run })}\n`);
    return exitCodeFor(status);
  }
  if (run.output !== null && run.output !== undefined) {
    io.stdout.write(`${JSON.stringify(run.output, null, 2)}\n`);
  }
  const style = createStyle(colorEnabled(io.stderr, io.env));
  const took =
    run.startedAt !== null && run.endedAt !== null
      ? ` in ${formatDuration(run.endedAt - run.startedAt)}`
      : "";
  const tokens =
    run.tokensIn + run.tokensOut > 0 ? `, ${run.tokensIn} in / ${run.tokensOut} out tokens` : "";
  const error =
    run.error === null ? "" : ` — ${style.red(`${run.error.code}: ${errorText(run.error)}`)}`;
  io.stderr.write(`run ${run.id} ${styleStatus(status, style)}${took}${tokens}${error}\n`);
  io.stderr.write(formatErrorStack(run.error, style));
  return exitCodeFor(status);
}

/** `QuotaError: used 3 of 1` for a program's own error class, the message alone otherwise. */
function errorText(error: NonNullable<FinishedRun["error"]>): string {
  return error.name !== undefined && error.name !== "Error"
    ? `${error.name}: ${error.message}`
    : error.message;
}

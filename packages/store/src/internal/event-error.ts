/**
 * The `eventError` of a status change: an error written on the `run_status` event only (the
 * row's `error` is untouched), e.g. the failed attempt a retry follows. Checked like a row error.
 */
import { validation } from "./args.ts";
import { describeIssues, runErrorSchema } from "./rows.ts";

/** `value` as the event's `{ code, message }`, `undefined` when absent, or `VALIDATION`. */
export function readEventError(
  runId: string,
  value: unknown,
): { code: string; message: string } | undefined {
  if (value === undefined) return undefined;
  const parsed = runErrorSchema.safeParse(value);
  if (!parsed.success) {
    throw validation(
      `commitStatus(${runId}): eventError must be { code, message, hint? }: ${describeIssues(parsed.error)}.`,
    );
  }
  return { code: parsed.data.code, message: parsed.data.message };
}

/**
 * Reading `pg` driver errors (drizzle wraps them; the SQLSTATE, constraint and detail sit on the
 * cause) and turning an event INSERT's constraint violation into the store's words.
 */
import { EngineError } from "@promenade/workflow/errors";

/** The first `{ code }`-bearing error in `error`'s cause chain (drizzle wraps driver errors). */
export function driverError(error: unknown): { code?: string; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      const message = (current as { message?: unknown }).message;
      return { code, message: typeof message === "string" ? message : "" };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The driver's `detail` of a constraint violation (names the offending key). */
function findDetail(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const detail = (current as { detail?: unknown }).detail;
    if (typeof detail === "string") return detail;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The driver's `constraint` of a constraint violation. */
export function constraintOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const constraint = (current as { constraint?: unknown }).constraint;
    if (typeof constraint === "string") return constraint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** An event INSERT's failure in the store's words: duplicate cursor, unknown run, or as is. */
export function eventWriteError(error: unknown, runId: string): unknown {
  const code = driverError(error)?.code;
  if (code === "23505" && constraintOf(error) === "run_events_pkey") {
    const cursor = /\(run_id, cursor\)=\(.*, (\d+)\)/.exec(findDetail(error) ?? "")?.[1];
    return new EngineError(
      "CONFLICT",
      `Run ${runId} already has an event at cursor ${cursor ?? "(one of the batch)"}; nothing of the batch was written.`,
      "Allocate cursors past maxCursor(runId).",
      { cause: error },
    );
  }
  if (code === "23503") return new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
  return error;
}

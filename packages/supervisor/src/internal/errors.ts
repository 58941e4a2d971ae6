/**
 * The supervisor's error vocabulary: the closed-engine and unknown-run errors, and how an error
 * is shaped for a run row or for the program on the other side of IPC.
 */
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import type { RunErrorShape } from "../ports.ts";
import type { WireError } from "../protocol.ts";

/** Every call after `shutdown()`. */
export function closedError(): EngineError {
  return new EngineError("INTERNAL", "This engine has been closed.");
}

/** A run id the store does not know. */
export function unknownRun(runId: string): EngineError {
  return new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
}

/** `{ code, message, hint? }` of an `EngineError`, for a run row. */
export function shapeOf(err: EngineError): RunErrorShape {
  return err.hint === undefined
    ? { code: err.code, message: err.message }
    : { code: err.code, message: err.message, hint: err.hint };
}

/** Engine-side errors crossing to the program: `EngineError` as is, anything else `INTERNAL`. */
export function engineSideShape(err: unknown): WireError {
  if (isEngineError(err)) return shapeOf(err);
  return { code: "INTERNAL", message: describe(err) };
}

/** `err` as an `Error`. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The message of `err`, for diagnostics. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

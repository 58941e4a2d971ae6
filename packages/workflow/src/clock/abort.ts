/** What an aborted sleep rejects with, on every clock. */
import { EngineError } from "../errors/engine-error.ts";

/** The signal's reason when it is an Error (the default AbortError is), else `INTERNAL`. */
export function sleepAbortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new EngineError("INTERNAL", "The sleep was aborted.");
}

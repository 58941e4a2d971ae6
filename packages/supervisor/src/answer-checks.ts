/**
 * The checks every path that answers a human-input request makes, in one place: the arguments of
 * `respondToInput`, the pending request and the answer's fit to its stored form, and the error an
 * answer that lost the race gets. The supervisor's own `answerInput` and a cluster node answering
 * for a run another node holds both call these, so both reject the same input with the same
 * codes and messages.
 */
import type { HumanInputSpec, JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { parseHumanInputSpec, validateHumanInputAnswer } from "@promenade/workflow/records";
import type { HumanInputRequestRow } from "./ports.ts";

/** Rejects `VALIDATION` for an empty run id or key, or a `respondedBy` given but empty. */
export function checkAnswerArguments(runId: unknown, key: unknown, respondedBy: unknown): void {
  if (typeof runId !== "string" || runId === "") {
    throw new EngineError("VALIDATION", "respondToInput: runId must be a non-empty string.");
  }
  if (typeof key !== "string" || key === "") {
    throw new EngineError("VALIDATION", "respondToInput: key must be a non-empty string.");
  }
  if (respondedBy !== null && (typeof respondedBy !== "string" || respondedBy === "")) {
    throw new EngineError(
      "VALIDATION",
      "respondToInput: respondedBy must be a non-empty string when given.",
    );
  }
}

/**
 * The answer to store for `row`: `NOT_FOUND` when the request is missing or no longer pending,
 * `VALIDATION` when `value` does not fit the request's form.
 */
export function checkedAnswer(
  row: HumanInputRequestRow | null,
  runId: string,
  key: string,
  value: unknown,
): JsonValue {
  if (row?.status !== "pending") throw noPendingRequest(runId, key);
  return validateHumanInputAnswer(storedSpec(row), value) as unknown as JsonValue;
}

/**
 * The error for an answer that was checked but not stored, given the request as it is now:
 * `CONFLICT` when another answer won, `NOT_FOUND` when it timed out or its run ended meanwhile.
 */
export function answerLost(
  now: HumanInputRequestRow | null,
  runId: string,
  key: string,
): EngineError {
  if (now?.status === "resolved") {
    return new EngineError(
      "CONFLICT",
      `Human-input request "${key}" of run ${runId} was already answered.`,
      "The first answer wins; read the request to see it.",
    );
  }
  return noPendingRequest(runId, key);
}

/** `NOT_FOUND` for a key with no pending request. */
export function noPendingRequest(runId: string, key: string): EngineError {
  return new EngineError(
    "NOT_FOUND",
    `No pending human-input request "${key}" for run ${runId}.`,
    "The request was already answered, timed out, or its run ended; list the run's requests to see it.",
  );
}

/** The request's stored answer form; `INTERNAL` when the stored row cannot be read. */
export function storedSpec(row: HumanInputRequestRow): HumanInputSpec {
  try {
    return parseHumanInputSpec(row.inputSpec);
  } catch (err) {
    throw new EngineError(
      "INTERNAL",
      `The stored answer form of human-input request "${row.key}" (run ${row.runId}) is not valid: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

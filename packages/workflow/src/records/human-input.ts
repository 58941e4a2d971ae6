/**
 * Human-input gates, engine side: the persisted request row, its statuses, and the pure checks
 * every engine piece shares — the gate's answer form (checked when the program asks), the answer
 * (checked when a person submits it, normalized before anyone stores or sees it) and the
 * `timeout` string. No zod, no I/O: the run process loads this file too. Every failure is an
 * `EngineError` `VALIDATION` whose message names the problem.
 */
import { EngineError } from "../errors/engine-error.ts";
import type {
  HumanChoiceResult,
  HumanInputResult,
  HumanInputSpec,
  HumanMultiSelectResult,
  HumanTextResult,
  JsonValue,
} from "../types.ts";

/** Where a request stands: waiting, answered, timed out, or closed with its run. */
export const HUMAN_INPUT_STATUSES = ["pending", "resolved", "expired", "cancelled"] as const;

/** Where a request stands. */
export type HumanInputStatus = (typeof HUMAN_INPUT_STATUSES)[number];

/** One human-input request: the durable answer slot of one gate (one key) of one run. */
export interface HumanInputRequestRow {
  /** ULID. */
  id: string;
  runId: string;
  /** 1-based creation order within the run (informational). */
  seq: number;
  /** The gate's name, unique within the run. */
  key: string;
  prompt: string;
  /** The answer form as the program gave it. */
  inputSpec: JsonValue;
  assignees: string[] | null;
  status: HumanInputStatus;
  /** The normalized answer once resolved (or the default answer of a timeout). */
  response: JsonValue | null;
  respondedBy: string | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; set only when the gate has a timeout. */
  expiresAt: number | null;
  /** Epoch ms; set when answered, and also when expired or cancelled. */
  respondedAt: number | null;
}

/** Filter of request listings; fields combine with AND, `statuses: []` matches nothing. */
export interface ListInputRequestsFilter {
  runId?: string;
  statuses?: readonly HumanInputStatus[];
}

const KINDS = ["text", "choice", "multiselect"] as const;

function invalid(message: string, hint?: string): EngineError {
  return new EngineError("VALIDATION", message, hint);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalBoolean(spec: Record<string, unknown>, field: string): void {
  if (spec[field] !== undefined && typeof spec[field] !== "boolean") {
    throw invalid(`humanInput: input.${field} must be a boolean.`);
  }
}

function optionalString(spec: Record<string, unknown>, field: string): void {
  if (spec[field] !== undefined && typeof spec[field] !== "string") {
    throw invalid(`humanInput: input.${field} must be a string.`);
  }
}

function optionalCount(spec: Record<string, unknown>, field: string): number | undefined {
  const value = spec[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`humanInput: input.${field} must be an integer ≥ 0.`);
  }
  return value;
}

/**
 * Checks a gate's answer form: a known `kind`, `options` a non-empty list of strings for the list
 * kinds, `min`/`max` integers ≥ 0 with `min ≤ max`, flags booleans, labels strings. Returns the
 * spec unchanged (unknown extra keys are kept and ignored).
 * @throws EngineError `VALIDATION` naming the field.
 */
export function parseHumanInputSpec(value: unknown): HumanInputSpec {
  if (!isRecord(value)) {
    throw invalid(
      'humanInput: input must be an answer form object such as { kind: "text" }.',
      'Use { kind: "text" }, { kind: "choice", options: [...] } or { kind: "multiselect", options: [...] }.',
    );
  }
  const kind = value.kind;
  if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) {
    throw invalid(
      `humanInput: input.kind must be one of ${KINDS.join(", ")}, got ${describeValue(kind)}.`,
    );
  }
  if (kind === "text") {
    optionalBoolean(value, "multiline");
    optionalBoolean(value, "required");
    optionalString(value, "placeholder");
    return value as unknown as HumanInputSpec;
  }
  const options = value.options;
  if (
    !Array.isArray(options) ||
    options.length === 0 ||
    !options.every((option) => typeof option === "string")
  ) {
    throw invalid(
      `humanInput: input.options of a ${kind} gate must be a non-empty array of strings.`,
    );
  }
  optionalBoolean(value, "allowOther");
  optionalString(value, "otherLabel");
  if (kind === "multiselect") {
    const min = optionalCount(value, "min");
    const max = optionalCount(value, "max");
    if (min !== undefined && max !== undefined && min > max) {
      throw invalid(`humanInput: input.min (${min}) is greater than input.max (${max}).`);
    }
  } else if (value.min !== undefined || value.max !== undefined) {
    throw invalid("humanInput: input.min and input.max apply to multiselect gates only.");
  }
  return value as unknown as HumanInputSpec;
}

/**
 * Checks an answer against a gate's answer form and returns the normalized answer: `{ value }`
 * for text, `{ value, isOther }` for choice (an omitted `isOther` is true exactly when the value
 * is not an option), `{ values }` plus `other` when given for multiselect. Extra keys of the
 * answer are dropped.
 * @throws EngineError `VALIDATION` whose message names the problem.
 */
export function validateHumanInputAnswer(spec: HumanInputSpec, answer: unknown): HumanInputResult {
  const allowOther = spec.kind === "text" ? true : spec.allowOther !== false;
  const offered = (entry: string): boolean => spec.kind !== "text" && spec.options.includes(entry);
  switch (spec.kind) {
    case "text": {
      if (!isRecord(answer) || typeof answer.value !== "string") {
        throw invalid("Invalid answer: a text response must be { value: string }.");
      }
      if (spec.required === true && answer.value === "") {
        throw invalid("Invalid answer: a response is required for this gate (got an empty text).");
      }
      const result: HumanTextResult = { value: answer.value };
      return result;
    }
    case "choice": {
      if (
        !isRecord(answer) ||
        typeof answer.value !== "string" ||
        (answer.isOther !== undefined && typeof answer.isOther !== "boolean")
      ) {
        throw invalid(
          "Invalid answer: a choice response must be { value: string, isOther?: boolean }.",
        );
      }
      const value = answer.value;
      const isOther = answer.isOther ?? !offered(value);
      if (!isOther && !offered(value)) {
        throw invalid(
          `Invalid answer: ${JSON.stringify(value)} is not one of the offered options (${spec.options.map((o) => JSON.stringify(o)).join(", ")}).`,
        );
      }
      if (isOther && !allowOther) {
        throw invalid("Invalid answer: a free-text answer is not allowed for this gate.");
      }
      const result: HumanChoiceResult = { value, isOther };
      return result;
    }
    case "multiselect": {
      if (
        !isRecord(answer) ||
        !Array.isArray(answer.values) ||
        !answer.values.every((entry) => typeof entry === "string") ||
        (answer.other !== undefined && typeof answer.other !== "string")
      ) {
        throw invalid(
          "Invalid answer: a multiselect response must be { values: string[], other?: string }.",
        );
      }
      const values = answer.values;
      for (const entry of values) {
        if (!offered(entry)) {
          throw invalid(
            `Invalid answer: ${JSON.stringify(entry)} is not one of the offered options (${spec.options.map((o) => JSON.stringify(o)).join(", ")}).`,
          );
        }
      }
      const other = answer.other;
      if (other !== undefined && !allowOther) {
        throw invalid("Invalid answer: a free-text answer is not allowed for this gate.");
      }
      const count = values.length + (other === undefined ? 0 : 1);
      if (spec.min !== undefined && count < spec.min) {
        throw invalid(`Invalid answer: select at least ${spec.min} (got ${count}).`);
      }
      if (spec.max !== undefined && count > spec.max) {
        throw invalid(`Invalid answer: select at most ${spec.max} (got ${count}).`);
      }
      const result: HumanMultiSelectResult = { values: [...values] };
      if (other !== undefined) result.other = other;
      return result;
    }
  }
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * A gate's `timeout` in milliseconds: `<n><unit>` with optional spaces, `n` a positive number and
 * unit `ms`, `s`, `m`, `h` or `d` (e.g. `"30m"`, `"48h"`, `"2 d"`).
 * @throws EngineError `VALIDATION` for anything else.
 */
export function parseHumanInputTimeout(value: unknown): number {
  const match =
    typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value) : null;
  const ms = match === null ? Number.NaN : Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw invalid(
      `humanInput: timeout must be a positive duration like "30m", "48h" or "2 d", got ${describeValue(value)}.`,
      "Units: ms, s, m, h, d.",
    );
  }
  return ms;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

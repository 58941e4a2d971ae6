/**
 * `--value` for `promenade respond`: the text a person typed → the answer the server expects for
 * the gate's form. A JSON object is the whole answer, sent as is (`{"value":"Ship","isOther":true}`,
 * `{"values":["a"],"other":"c"}`). Anything else is shaped by the gate's kind: for `text` and
 * `choice` the text itself (a JSON string is unquoted) becomes `{ value }`; for `multiselect` a
 * JSON array becomes `{ values }` and a single text `{ values: [text] }`. Whether the answer fits
 * (an offered option, `min`/`max`, a required text) is the server's check, not this one.
 */
import type { JsonValue } from "@promenade/workflow";
import { CliError } from "./errors.ts";

/** `raw` parsed as JSON, or `undefined` when it is not JSON. */
function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The whole answer when `raw` is a JSON object, else `null` (the gate's kind decides). */
export function answerObject(raw: string): Record<string, JsonValue> | null {
  const parsed = tryJson(raw);
  return isPlainObject(parsed) ? parsed : null;
}

/**
 * The answer for a gate whose answer form is `inputSpec`, from `--value raw`.
 * @throws CliError when the gate's kind is unknown to this CLI and `raw` is not a JSON object.
 */
export function answerFor(inputSpec: unknown, raw: string): JsonValue {
  const whole = answerObject(raw);
  if (whole !== null) return whole;
  const parsed = tryJson(raw);
  const text = typeof parsed === "string" ? parsed : raw;
  const kind = isPlainObject(inputSpec) ? inputSpec["kind"] : undefined;
  switch (kind) {
    case "text":
    case "choice":
      return { value: text };
    case "multiselect":
      if (Array.isArray(parsed)) return { values: parsed as JsonValue[] };
      return { values: [text] };
    default:
      throw new CliError(
        `this gate's answer form (kind ${JSON.stringify(kind ?? null)}) is unknown to this version of promenade.`,
        { hint: 'Pass the whole answer as a JSON object, e.g. --value \'{"value":"yes"}\'.' },
      );
  }
}

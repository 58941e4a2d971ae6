/**
 * A human-input gate's arguments, checked: key, prompt, form, assignees, timeout and the default
 * answer of a timeout. The run process checks a gate with it before sending anything (a malformed
 * gate rejects `VALIDATION` and opens nothing); the supervisor checks the host call again with it.
 */
import type { HumanInputSpec, JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import {
  parseHumanInputSpec,
  parseHumanInputTimeout,
  validateHumanInputAnswer,
} from "@promenade/workflow/records";

/** A `human_input` host call's arguments, checked. */
export interface GateRequest {
  key: string;
  prompt: string;
  spec: HumanInputSpec;
  assignees: string[] | null;
  /** The timeout as the program wrote it (for messages), and in ms. */
  timeout: { text: string; ms: number } | null;
  /** The default answer of a timeout, or `null` to fail the run. */
  onTimeoutValue: JsonValue | null;
}

/** A gate's arguments as the program, the agent loop or the host call gives them, unchecked. */
export interface GateArgs {
  key?: unknown;
  prompt?: unknown;
  input?: unknown;
  assignees?: unknown;
  timeout?: unknown;
  onTimeout?: unknown;
}

/** Checks a gate's arguments; throws `VALIDATION` naming the first bad field. */
export function readGateRequest(args: GateArgs): GateRequest {
  const key = args.key;
  if (typeof key !== "string" || key === "") {
    throw new EngineError("VALIDATION", "humanInput: key must be a non-empty string.");
  }
  if (typeof args.prompt !== "string") {
    throw new EngineError("VALIDATION", "humanInput: prompt must be a string.");
  }
  const spec = parseHumanInputSpec(args.input);
  let assignees: string[] | null = null;
  if (args.assignees !== undefined) {
    const list = args.assignees;
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
      throw new EngineError("VALIDATION", "humanInput: assignees must be an array of strings.");
    }
    assignees = list;
  }
  let timeout: GateRequest["timeout"] = null;
  if (args.timeout !== undefined) {
    const ms = parseHumanInputTimeout(args.timeout);
    timeout = { text: args.timeout as string, ms };
  }
  let onTimeoutValue: JsonValue | null = null;
  const onTimeout = args.onTimeout;
  if (onTimeout !== undefined && onTimeout !== "fail") {
    if (typeof onTimeout !== "object" || onTimeout === null || !("value" in onTimeout)) {
      throw new EngineError(
        "VALIDATION",
        'humanInput: onTimeout must be "fail" or { value: <answer> }.',
      );
    }
    onTimeoutValue = validateHumanInputAnswer(spec, onTimeout.value) as unknown as JsonValue;
  }
  return { key, prompt: args.prompt, spec, assignees, timeout, onTimeoutValue };
}

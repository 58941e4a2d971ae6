/**
 * Human-input gates asked from the run process: the gate (form, key, assignees, timeout, default
 * answer) is checked before anything is sent, so a malformed gate rejects `VALIDATION` and opens
 * nothing; then the host's answer is awaited.
 */
import { EngineError } from "@promenade/workflow/errors";
import {
  parseHumanInputSpec,
  parseHumanInputTimeout,
  validateHumanInputAnswer,
} from "@promenade/workflow/records";
import type { ChildChannel } from "./channel.ts";
import { toJsonValue } from "./json.ts";

/** One gate as the SDK or the agent loop asks it; every field is checked here. */
export interface HumanInputRequest {
  key: unknown;
  prompt: unknown;
  input: unknown;
  assignees?: unknown;
  timeout?: unknown;
  onTimeout?: unknown;
}

/** Checks the gate, then sends host call `human_input` and resolves with the answer. */
export async function askHuman(channel: ChildChannel, opts: HumanInputRequest): Promise<unknown> {
  if (typeof opts.key !== "string" || opts.key === "") {
    throw new EngineError("VALIDATION", "humanInput: key must be a non-empty string.");
  }
  if (typeof opts.prompt !== "string") {
    throw new EngineError("VALIDATION", "humanInput: prompt must be a string.");
  }
  const spec = parseHumanInputSpec(opts.input);
  const args: Record<string, unknown> = {
    key: opts.key,
    prompt: opts.prompt,
    input: toJsonValue(spec, "humanInput input"),
  };
  if (opts.assignees !== undefined) {
    const list = opts.assignees;
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
      throw new EngineError("VALIDATION", "humanInput: assignees must be an array of strings.");
    }
    args.assignees = [...list];
  }
  if (opts.timeout !== undefined) {
    parseHumanInputTimeout(opts.timeout);
    args.timeout = opts.timeout;
  }
  const onTimeout = opts.onTimeout;
  if (onTimeout !== undefined && onTimeout !== "fail") {
    if (typeof onTimeout !== "object" || onTimeout === null || !("value" in onTimeout)) {
      throw new EngineError(
        "VALIDATION",
        'humanInput: onTimeout must be "fail" or { value: <answer> }.',
      );
    }
    args.onTimeout = { value: validateHumanInputAnswer(spec, onTimeout.value) };
  }
  return channel.hostCall("human_input", args);
}

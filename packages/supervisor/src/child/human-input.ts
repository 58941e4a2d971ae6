/**
 * Human-input gates asked from the run process: the gate (form, key, assignees, timeout, default
 * answer) is checked before anything is sent, so a malformed gate rejects `VALIDATION` and opens
 * nothing; then the host's answer is awaited.
 */
import { readGateRequest } from "../internal/gate-request.ts";
import type { GateArgs } from "../internal/gate-request.ts";
import type { ChildChannel } from "./channel.ts";
import { toJsonValue } from "./json.ts";

/** Checks the gate, then sends host call `human_input` and resolves with the answer. */
export async function askHuman(channel: ChildChannel, opts: GateArgs): Promise<unknown> {
  const gate = readGateRequest(opts);
  const args: Record<string, unknown> = {
    key: gate.key,
    prompt: gate.prompt,
    input: toJsonValue(gate.spec, "humanInput input"),
  };
  if (gate.assignees !== null) args.assignees = [...gate.assignees];
  if (opts.timeout !== undefined) args.timeout = opts.timeout;
  if (opts.onTimeout !== undefined && opts.onTimeout !== "fail") {
    args.onTimeout = { value: gate.onTimeoutValue };
  }
  return channel.hostCall("human_input", args);
}

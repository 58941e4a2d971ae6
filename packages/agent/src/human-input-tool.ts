/**
 * The opt-in `human_input` tool (`agent(prompt, { humanInput: true })`): the model asks a person
 * mid-loop through the run's human-input gate, keyed by the tool call's id, and gets the answer
 * back as the tool result (the answer serialized as JSON). A malformed answer form fails that
 * tool call back to the model (`VALIDATION`) and opens no gate; any other failure of the gate
 * (the run cancelled, a timeout) ends the `agent()` call. Knows nothing about providers.
 */
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { parseHumanInputSpec } from "@promenade/workflow/records";
import type { AgentHost } from "./ports.ts";
import type { ToolSpec } from "./providers/types.ts";

/** The tool's name as the model sees it. */
export const HUMAN_INPUT_TOOL = "human_input";

/** The prompt used when the model's `prompt` argument is not a string. */
const DEFAULT_PROMPT = "Input needed";

/** The tool as advertised to the model. */
export const humanInputToolSpec: ToolSpec = {
  name: HUMAN_INPUT_TOOL,
  description:
    "Ask a person and wait for their answer. `prompt` is the question; `input` is the answer " +
    'form: { "kind": "text" } (default), { "kind": "choice", "options": [...] } or ' +
    '{ "kind": "multiselect", "options": [...], "min"?: n, "max"?: n }. The result is the ' +
    "person's answer as JSON.",
  inputSchema: {
    type: "object",
    required: ["prompt"],
    properties: { prompt: { type: "string" }, input: { type: "object" } },
  },
};

/**
 * The host's gate, checked when the call asks for the tool.
 * @throws EngineError `UNSUPPORTED` when the run process offers no human-input gate.
 */
export function humanInputGate(
  host: AgentHost,
): (request: { key: string; prompt: string; input: unknown }) => Promise<unknown> {
  if (host.humanInput === undefined) {
    throw new EngineError(
      "UNSUPPORTED",
      "agent() option humanInput needs an engine that can ask a person, and this one cannot.",
      "Run the program on a Promenade engine, or drop humanInput: true.",
    );
  }
  return (request) =>
    host.humanInput?.(request) ??
    Promise.reject(new EngineError("UNSUPPORTED", "The human-input gate went away."));
}

/** The result of one `human_input` call: the answer as model text, or the tool error. */
export type HumanInputOutcome =
  { ok: true; content: string } | { ok: false; code: string; message: string };

/**
 * Asks the person for one `human_input` tool call and waits for the answer. A malformed `input`
 * form resolves to a `VALIDATION` tool error without asking.
 * @throws the gate's own failure (cancelled run, timeout) unchanged.
 */
export async function askHuman(
  ask: (request: { key: string; prompt: string; input: unknown }) => Promise<unknown>,
  callId: string,
  input: Record<string, unknown>,
): Promise<HumanInputOutcome> {
  const prompt = typeof input.prompt === "string" ? input.prompt : DEFAULT_PROMPT;
  const form = input.input === undefined ? { kind: "text" } : input.input;
  try {
    parseHumanInputSpec(form);
  } catch (err) {
    if (isEngineError(err)) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
  let answer: unknown;
  try {
    answer = await ask({ key: callId, prompt, input: form });
  } catch (err) {
    if (isEngineError(err) && err.code === "VALIDATION") {
      return { ok: false, code: err.code, message: err.message };
    }
    throw err;
  }
  return { ok: true, content: JSON.stringify(answer) };
}

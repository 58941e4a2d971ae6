/**
 * The JSON depth limit on what a run process sends: the value passed to `output()`, the fields
 * of every emitted event (tool results and tool inputs included) and the arguments of every host
 * call (`workflows.call` input, artifact metadata). Usable on both sides of the IPC channel: the
 * child checks before serializing (a value nested far enough overflows `JSON.stringify`), the
 * parent checks every message it receives (a child is untrusted). Pure; knows nothing about
 * processes or the store. Invariant: a value that passes cannot later fail to store (SQLite's
 * JSON functions refuse 1,000 levels; events add at most a few levels around a field).
 */
import { EngineError } from "@promenade/workflow/errors";
import { jsonDepthProblem, MAX_JSON_DEPTH, tooDeepMessage } from "@promenade/workflow/limits";

const HINT = `Keep values within ${String(MAX_JSON_DEPTH)} levels of nesting; write a larger structure as an artifact (artifacts.write) and pass its reference.`;

/**
 * `VALIDATION` naming the limit and the path when the value passed to `output()` nests past the
 * JSON depth limit, else `null`.
 */
export function outputDepthError(value: unknown): EngineError | null {
  const problem = jsonDepthProblem(value, { root: "output" });
  if (problem === null) return null;
  return new EngineError(
    "VALIDATION",
    tooDeepMessage("The value passed to output()", problem),
    HINT,
  );
}

/**
 * `VALIDATION` naming the limit, `what` and the path when `value` nests past the JSON depth
 * limit, else `null`. The run process checks a value with it before serializing it (a
 * `workflows.call` input, artifact metadata).
 */
export function valueDepthError(value: unknown, what: string): EngineError | null {
  const problem = jsonDepthProblem(value);
  if (problem === null) return null;
  return new EngineError("VALIDATION", tooDeepMessage(what, problem), HINT);
}

/** The child → parent message fields this check reads; any other field is ignored. */
export interface ChildMessageFields {
  type: string;
  body?: unknown;
  args?: unknown;
  output?: unknown;
  outputDeclared?: unknown;
  method?: unknown;
}

/**
 * `VALIDATION` naming the limit and the path when a child → parent message carries a value
 * nested past the JSON depth limit, else `null`: a declared output (`done`/`failed`), a field of
 * an emitted event (`emit`, path `event.<field>…`), or a host-call argument (`host_call`, path
 * `args.<name>…`). Messages of other types carry no free-form JSON and always pass.
 */
export function childMessageDepthError(message: ChildMessageFields): EngineError | null {
  switch (message.type) {
    case "done":
    case "failed":
      return message.outputDeclared === true ? outputDepthError(message.output) : null;
    case "emit": {
      const body = message.body;
      const kind = isRecord(body) && typeof body["kind"] === "string" ? body["kind"] : "unknown";
      return fieldsError(body, "event", `The "${kind}" event`);
    }
    case "host_call": {
      const method = typeof message.method === "string" ? message.method : "host";
      return fieldsError(message.args, "args", `The ${method} call`);
    }
    default:
      return null;
  }
}

/** Checks each field of an envelope object (the event, the argument list) against the limit. */
function fieldsError(envelope: unknown, root: string, what: string): EngineError | null {
  if (!isRecord(envelope)) return null;
  for (const [key, value] of Object.entries(envelope)) {
    const problem = jsonDepthProblem(value, { root: `${root}.${key}` });
    if (problem !== null) return new EngineError("VALIDATION", tooDeepMessage(what, problem), HINT);
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The `run_code` built-in: runs a JavaScript snippet (an async function body) in a
 * `worker_threads` Worker with an empty environment. The leaf's other tools are async functions
 * on `tools` (plus `call(name, input)`); they execute in the run process, the worker only asks
 * for them. Only what the snippet logs (`console.*`, its stdout/stderr) and returns reaches the
 * model, capped at {@link RUN_CODE_MAX_CHARS} and redacted. A timeout terminates the worker.
 * Built by the loop (it needs the leaf's finished tool list), like `subagent`.
 */
import { Worker } from "node:worker_threads";
import { EngineError } from "@promenade/workflow/errors";
import type { RedactorPort } from "../ports.ts";
import type { AgentTool } from "../tools.ts";
import { optInt, str } from "./args.ts";

/** The tool's name. */
export const RUN_CODE_TOOL = "run_code";
/** Default and maximum snippet time. */
export const RUN_CODE_DEFAULT_TIMEOUT_MS = 120_000;
export const RUN_CODE_MAX_TIMEOUT_MS = 600_000;
/** Characters of logs and return value the model receives. */
export const RUN_CODE_MAX_CHARS = 60_000;

// The worker's side, evaluated as a CommonJS script. It never sees the run's environment
// (`env: {}`) and reaches tools only through messages to the run process.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { inspect } = require("node:util");
const pending = new Map();
let next = 0;
parentPort.on("message", (message) => {
  const waiter = pending.get(message.id);
  if (waiter === undefined) return;
  pending.delete(message.id);
  if (message.ok) waiter.resolve(message.value);
  else waiter.reject(new Error(message.error));
});
const call = (name, input) => {
  if (typeof name !== "string") return Promise.reject(new TypeError("call(name, input): name must be a string"));
  const id = ++next;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    try {
      parentPort.postMessage({ type: "call", id, name, input: input === undefined ? {} : input });
    } catch (error) {
      pending.delete(id);
      reject(new TypeError("call(" + JSON.stringify(name) + "): the input must be plain data"));
    }
  });
};
const tools = Object.freeze(Object.fromEntries(workerData.names.map((name) => [name, (input) => call(name, input)])));
const text = (value) => (typeof value === "string" ? value : inspect(value, { depth: 6 }));
const log = (...args) => parentPort.postMessage({ type: "log", text: args.map(text).join(" ") });
const console = { log, info: log, warn: log, error: log, debug: log };
const AsyncFunction = (async () => undefined).constructor;
(async () => new AsyncFunction("tools", "call", "console", workerData.code)(tools, call, console))().then(
  (value) => {
    let rendered;
    if (value !== undefined) {
      try { rendered = typeof value === "string" ? value : JSON.stringify(value) ?? text(value); }
      catch { rendered = text(value); }
    }
    parentPort.postMessage({ type: "done", value: rendered });
  },
  (error) => parentPort.postMessage({
    type: "error",
    message: error instanceof Error ? error.name + ": " + error.message : text(error),
  }),
);
`;

type WorkerMessage =
  | { type: "log"; text: string }
  | { type: "call"; id: number; name: string; input: unknown }
  | { type: "done"; value?: string }
  | { type: "error"; message: string };

/**
 * @param others the leaf's tools the snippet may call (read when a snippet runs, so tools added
 *   after this one, e.g. MCP tools, count; `run_code` itself and `human_input` are left out).
 * @param redactor the run's redactor: the model-bound text is redacted with it.
 */
export function runCodeTool(others: () => readonly AgentTool[], redactor: RedactorPort): AgentTool {
  return {
    spec: {
      name: RUN_CODE_TOOL,
      description:
        "Run a JavaScript snippet (the body of an async function) in an isolated worker. Your " +
        "other tools are async functions on `tools` (e.g. `await tools.read({ path })`), also " +
        "reachable as `call(name, input)`; each resolves to the tool's text result. Only what " +
        "the snippet logs with console.log and what it returns comes back to you, at most " +
        `${RUN_CODE_MAX_CHARS} characters. \`timeoutMs\` defaults to ${RUN_CODE_DEFAULT_TIMEOUT_MS} ` +
        `(max ${RUN_CODE_MAX_TIMEOUT_MS}).`,
      inputSchema: {
        type: "object",
        required: ["code"],
        properties: {
          code: { type: "string" },
          timeoutMs: { type: "integer", minimum: 1, maximum: RUN_CODE_MAX_TIMEOUT_MS },
        },
      },
    },
    async execute(input) {
      const code = str(input, "code");
      if (code.trim() === "") throw new EngineError("VALIDATION", `"code" is empty.`);
      const timeoutMs = optInt(input, "timeoutMs") ?? RUN_CODE_DEFAULT_TIMEOUT_MS;
      if (timeoutMs < 1 || timeoutMs > RUN_CODE_MAX_TIMEOUT_MS) {
        throw new EngineError(
          "VALIDATION",
          `"timeoutMs" must be between 1 and ${RUN_CODE_MAX_TIMEOUT_MS}; got ${timeoutMs}.`,
        );
      }
      const callable = new Map(
        others()
          .filter((tool) => tool.spec.name !== RUN_CODE_TOOL && tool.spec.name !== "human_input")
          .map((tool) => [tool.spec.name, tool]),
      );
      const outcome = await runSnippet(code, timeoutMs, callable);
      const text = clip(redactor.redact(outcome.text));
      if (outcome.error !== null) {
        const message = redactor.redact(outcome.error);
        throw new EngineError("PROGRAM_ERROR", text === "" ? message : `${message}\n${text}`);
      }
      return text === "" ? "(no output)" : text;
    },
  };
}

/** Runs the snippet; resolves with its logs and return value, and the error that ended it. */
function runSnippet(
  code: string,
  timeoutMs: number,
  callable: ReadonlyMap<string, AgentTool>,
): Promise<{ text: string; error: string | null }> {
  const lines: string[] = [];
  let size = 0;
  const keep = (line: string): void => {
    // Past the cap nothing more can reach the model; stop holding it in memory.
    if (size > RUN_CODE_MAX_CHARS) return;
    lines.push(line);
    size += line.length + 1;
  };
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { code, names: [...callable.keys()] },
    env: {},
    stdout: true,
    stderr: true,
  });
  worker.stdout.setEncoding("utf8").on("data", (chunk: string) => keep(chunk.replace(/\n$/, "")));
  worker.stderr.setEncoding("utf8").on("data", (chunk: string) => keep(chunk.replace(/\n$/, "")));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error: string | null, value?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      if (value !== undefined) keep(`[return value]\n${value}`);
      resolve({ text: lines.join("\n"), error });
    };
    const timer = setTimeout(() => {
      finish(`The snippet timed out after ${timeoutMs} ms and was stopped.`);
    }, timeoutMs);
    worker.on("message", (message: WorkerMessage) => {
      switch (message.type) {
        case "log":
          keep(message.text);
          return;
        case "call":
          void answerCall(worker, callable, message, () => settled);
          return;
        case "done":
          finish(null, message.value);
          return;
        case "error":
          finish(message.message);
          return;
      }
    });
    worker.on("error", (err: Error) => finish(`The snippet's worker failed: ${err.message}`));
    worker.on("exit", (code) => finish(`The snippet's worker exited (code ${code}).`));
  });
}

/** Runs one tool the snippet asked for and posts the answer back (if the worker still runs). */
async function answerCall(
  worker: Worker,
  callable: ReadonlyMap<string, AgentTool>,
  message: { id: number; name: string; input: unknown },
  ended: () => boolean,
): Promise<void> {
  let reply: { id: number; ok: true; value: string } | { id: number; ok: false; error: string };
  const tool = callable.get(message.name);
  const input = message.input;
  if (tool === undefined) {
    reply = {
      id: message.id,
      ok: false,
      error: `Unknown tool "${message.name}". Tools here: ${[...callable.keys()].join(", ")}.`,
    };
  } else if (typeof input !== "object" || input === null || Array.isArray(input)) {
    reply = { id: message.id, ok: false, error: `Tool "${message.name}" takes an object input.` };
  } else {
    try {
      reply = {
        id: message.id,
        ok: true,
        value: await tool.execute(input as Record<string, unknown>),
      };
    } catch (err) {
      reply = {
        id: message.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
      };
    }
  }
  if (!ended()) worker.postMessage(reply);
}

function clip(text: string): string {
  if (text.length <= RUN_CODE_MAX_CHARS) return text;
  return `${text.slice(0, RUN_CODE_MAX_CHARS)}\n[output clipped at ${RUN_CODE_MAX_CHARS} characters]`;
}

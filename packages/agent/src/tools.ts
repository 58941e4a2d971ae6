/**
 * The loop's tool abstraction and program-tool wrapping: every advertised
 * tool — program `ToolDef`, memory tool, MCP tool — is an `AgentTool` with a spec and an
 * `execute` that returns model-bound text. `tools` takes program tools only: built-in tools are
 * chosen with the `builtins` option. Knows nothing about events or providers.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { ToolDef } from "./ports.ts";
import type { ToolSpec } from "./providers/types.ts";
import { isBuiltinName } from "./builtins/registry.ts";

/** What the loop gives one execution of a tool. */
export interface ToolCallContext {
  /** The model's id of this call. */
  readonly toolCallId: string;
  /**
   * Live output of the running tool: streamed to the run as `tool_output_delta` events (redacted
   * by the loop). The tool's result still carries its own (capped) copy.
   */
  output(stream: "stdout" | "stderr", text: string): void;
}

/** One tool of a call's advertised set. `execute` returns the (unredacted) model-bound text. */
export interface AgentTool {
  spec: ToolSpec;
  execute(input: Record<string, unknown>, call?: ToolCallContext): Promise<string>;
  /** Calls of this tool start without waiting for the turn's earlier calls (e.g. `subagent`). */
  concurrent?: boolean;
}

/** Program return value → model text: null/undefined → `""`, string as is, else JSON. */
export function toolText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  // JSON.stringify returns undefined for functions and symbols.
  const json: string | undefined = JSON.stringify(value);
  return json ?? `[${typeof value}]`;
}

/** One-line summary: newlines → spaces; over 120 chars → first 117 + `…`. */
export function humanSummary(content: string): string {
  const flat = content.replaceAll("\n", " ");
  return flat.length <= 120 ? flat : `${flat.slice(0, 117)}…`;
}

/**
 * Checks and wraps one `tools` entry (the call's first step, before any network call).
 * @throws EngineError `VALIDATION` for a string naming a built-in tool (pointing at `builtins`),
 *   an empty name or a non-function `execute`; `UNSUPPORTED` for any other string.
 */
export function wrapToolEntry(entry: unknown, index: number): AgentTool {
  if (typeof entry === "string" && isBuiltinName(entry)) {
    throw new EngineError(
      "VALIDATION",
      `agent() got a string (${JSON.stringify(entry)}) in \`tools\`, which takes ToolDef objects only; built-in tools are chosen with the \`builtins\` option.`,
      `Built-in tools are on by default; to pick some, pass builtins: [${JSON.stringify(entry)}].`,
    );
  }
  if (typeof entry === "string") {
    throw new EngineError(
      "UNSUPPORTED",
      `agent() tool "${entry}" is a built-in tool name, and built-in tools are not available on this engine.`,
      `Define an inline ToolDef instead: { name: "${entry}", description, inputSchema, execute }.`,
    );
  }
  if (typeof entry !== "object" || entry === null) {
    throw new EngineError(
      "VALIDATION",
      `agent() tools[${index}] must be a ToolDef object or a built-in tool name.`,
    );
  }
  const def = entry as Partial<ToolDef>;
  if (typeof def.name !== "string" || def.name === "") {
    throw new EngineError(
      "VALIDATION",
      `agent() tools[${index}] has an empty tool name.`,
      "Give every ToolDef a non-empty name.",
    );
  }
  const name = def.name;
  const execute = def.execute;
  if (typeof execute !== "function") {
    throw new EngineError(
      "VALIDATION",
      `agent() tool "${name}" has no execute function.`,
      "A ToolDef needs execute: async (input) => result.",
    );
  }
  const inputSchema =
    typeof def.inputSchema === "object" && def.inputSchema !== null
      ? def.inputSchema
      : { type: "object" };
  return {
    spec: {
      name,
      description: typeof def.description === "string" ? def.description : "",
      inputSchema,
    },
    async execute(input) {
      return toolText(await execute(input));
    },
  };
}

/**
 * @throws EngineError `VALIDATION` (`Duplicate tool name "<name>"`) on the first repeated name.
 */
export function assertUniqueToolNames(tools: readonly AgentTool[]): void {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (seen.has(tool.spec.name)) {
      throw new EngineError(
        "VALIDATION",
        `Duplicate tool name "${tool.spec.name}" in agent() tools (program, built-in, memory and MCP tools share one namespace).`,
        "Rename one of the tools; MCP tools are advertised as <server>__<tool>, memory tools as memory_list/memory_read/memory_write, and built-in tools can be left out with the builtins option.",
      );
    }
    seen.add(tool.spec.name);
  }
}

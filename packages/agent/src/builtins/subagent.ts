/**
 * The `subagent` tool: runs a child leaf in the same run process and returns its final text.
 * The child may be granted any of the parent's built-ins and inline tools (default: all of
 * them); it never gets `subagent`, `human_input` or the parent's MCP tools — the loop that runs
 * it enforces that. Several calls in one turn run concurrently.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { toolText } from "../tools.ts";
import { optStr, str } from "./args.ts";

/** What one `subagent` call asks for, checked. */
export interface SubagentRequest {
  prompt: string;
  name?: string;
  model?: string;
  provider?: string;
  memory?: string;
  /** Granted tool names (a subset of the parent's grantable names). */
  tools: string[];
}

/**
 * @param grantable the parent's built-in and inline tool names the child may receive.
 * @param run runs the child leaf and resolves to its answer.
 */
export function subagentTool(
  grantable: readonly string[],
  run: (request: SubagentRequest) => Promise<unknown>,
): AgentTool {
  return {
    concurrent: true,
    spec: {
      name: "subagent",
      description:
        "Delegate a self-contained task to a helper agent that works with its own context and " +
        "returns its final answer. `tools` limits the helper's tools (default: all of yours " +
        "except this one); `name` labels it; `model`/`provider` pick another model.",
      inputSchema: {
        type: "object",
        required: ["prompt"],
        properties: {
          prompt: { type: "string" },
          name: { type: "string" },
          model: { type: "string" },
          provider: { type: "string" },
          tools: { type: "array", items: { type: "string" } },
          memory: { type: "string" },
        },
      },
    },
    async execute(input) {
      const request: SubagentRequest = { prompt: str(input, "prompt"), tools: [...grantable] };
      for (const field of ["name", "model", "provider", "memory"] as const) {
        const value = optStr(input, field);
        if (value !== undefined && value !== "") request[field] = value;
      }
      if (input.tools !== undefined && input.tools !== null) {
        const tools = input.tools;
        if (!Array.isArray(tools) || !tools.every((t) => typeof t === "string")) {
          throw new EngineError("VALIDATION", `"tools" must be an array of tool names.`);
        }
        const outside = tools.filter((t) => !grantable.includes(t));
        if (outside.length > 0) {
          throw new EngineError(
            "VALIDATION",
            `Cannot grant ${outside.map((t) => `"${t}"`).join(", ")} to a subagent; grantable tools: ${grantable.join(", ") || "(none)"}.`,
          );
        }
        request.tools = [...new Set(tools)];
      }
      return toolText(await run(request));
    },
  };
}

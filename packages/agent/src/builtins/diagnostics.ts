/**
 * The `diagnostics` built-in, best effort: this engine runs no language server, so it answers at
 * once that none is available (after checking the path), never failing or hanging the leaf.
 */
import type { AgentTool } from "../tools.ts";
import type { BuiltinContext } from "./context.ts";
import { displayPath, insidePath } from "./paths.ts";

export function diagnosticsTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "diagnostics",
      description:
        "Report compiler/linter diagnostics for a file when a language server is available.",
      inputSchema: {
        type: "object",
        required: ["path"],
        properties: { path: { type: "string" }, workspace: { type: "boolean" } },
      },
    },
    async execute(input) {
      const path = insidePath(ctx.root, input.path);
      return Promise.resolve(
        `No language server is available on this engine, so there are no diagnostics for ${displayPath(ctx.root, path)}. Run the project's own checker with bash if it has one.`,
      );
    },
  };
}

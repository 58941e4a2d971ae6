/** The `write` built-in: creates or replaces a file (parent directories created). */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentTool } from "../tools.ts";
import { str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { displayPath, insidePath } from "./paths.ts";

export function writeTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "write",
      description:
        "Create or replace a file of the working directory with `content` (parent directories are created).",
      inputSchema: {
        type: "object",
        required: ["path", "content"],
        properties: { path: { type: "string" }, content: { type: "string" } },
      },
    },
    async execute(input) {
      const path = insidePath(ctx.root, input.path);
      const content = str(input, "content");
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content, "utf8");
      return `Wrote ${displayPath(ctx.root, path)} (${Buffer.byteLength(content)} bytes).`;
    },
  };
}

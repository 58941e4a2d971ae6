/**
 * The `artifacts` built-in: writes or reads a named artifact of the run through the run's
 * artifact store (a write is checked like the SDK's `artifacts.write()`). A read returns the
 * artifact's text, clipped like the `read` tool's output.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { optStr, str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { READ_MAX_CHARS } from "./read.ts";

/** The `artifacts` tool over the leaf's artifact store. */
export function artifactsTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "artifacts",
      description:
        "Save (`action: write`, with `content` and optional `contentType`) or load (`action: " +
        "read`) a named artifact of this run.",
      inputSchema: {
        type: "object",
        required: ["action", "name"],
        properties: {
          action: { type: "string", enum: ["write", "read"] },
          name: { type: "string" },
          content: { type: "string" },
          contentType: { type: "string" },
        },
      },
    },
    async execute(input) {
      const store = ctx.artifacts;
      if (store === undefined)
        throw new EngineError("UNSUPPORTED", "This run has no artifact store.");
      const action = str(input, "action");
      const name = str(input, "name");
      if (name === "") throw new EngineError("VALIDATION", `"name" must not be empty.`);
      if (action === "write") {
        const content = str(input, "content");
        const contentType = optStr(input, "contentType") ?? "text/plain";
        await store.write(name, content, contentType);
        return `Saved artifact "${name}" (${Buffer.byteLength(content)} bytes, ${contentType}).`;
      }
      if (action === "read") {
        const found = await store.read(name);
        if (found === null) throw new EngineError("VALIDATION", `No artifact named "${name}".`);
        if (found.length <= READ_MAX_CHARS) return found;
        return `${found.slice(0, READ_MAX_CHARS)}\n[output clipped at ${READ_MAX_CHARS} characters]`;
      }
      throw new EngineError("VALIDATION", `"action" must be "write" or "read".`);
    },
  };
}

/** The `glob` built-in: paths of the working directory matching a glob pattern. */
import type { AgentTool } from "../tools.ts";
import { str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { globToRegExp } from "./glob-pattern.ts";
import { displayPath } from "./paths.ts";
import { walkFiles } from "./walk.ts";

/** Most paths one `glob` returns. */
const MAX_MATCHES = 1000;

export function globTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "glob",
      description:
        "Find files of the working directory by glob pattern (`**` any directories, `*` within a " +
        "name, `{a,b}` alternatives), e.g. `src/**/*.ts`. Paths are relative, sorted.",
      inputSchema: {
        type: "object",
        required: ["pattern"],
        properties: { pattern: { type: "string" } },
      },
    },
    async execute(input) {
      const pattern = str(input, "pattern").replace(/^\.\//, "");
      const matcher = globToRegExp(pattern);
      const matches = (await walkFiles(ctx.root))
        .map((file) => displayPath(ctx.root, file))
        .filter((rel) => matcher.test(rel));
      if (matches.length === 0) return "No files match.";
      const shown = matches.slice(0, MAX_MATCHES);
      if (matches.length > MAX_MATCHES) shown.push(`[${matches.length - MAX_MATCHES} more paths]`);
      return shown.join("\n");
    },
  };
}

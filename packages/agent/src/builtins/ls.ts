/** The `ls` built-in: the entries of one or more directories, directories marked with `/`. */
import { readdir, stat } from "node:fs/promises";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { strList } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { displayPath, insidePath } from "./paths.ts";
import { reason } from "./read.ts";

/** Most entries listed per directory. */
const MAX_ENTRIES = 1000;

export function lsTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "ls",
      description:
        "List a directory of the working directory (default: its top). Directories end with `/`. " +
        "`path` may be one path or several.",
      inputSchema: {
        type: "object",
        properties: {
          path: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
        },
      },
    },
    async execute(input) {
      const paths = strList(input, "path", ["."]);
      const sections: string[] = [];
      for (const given of paths) {
        const dir = insidePath(ctx.root, given);
        const listing = await listDir(dir, given);
        sections.push(paths.length === 1 ? listing : `${displayPath(ctx.root, dir)}:\n${listing}`);
      }
      return sections.join("\n\n");
    },
  };
}

/** One directory's entries, one per line, sorted; `(empty)` for none. */
export async function listDir(dir: string, shown: string): Promise<string> {
  let entries;
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new EngineError("VALIDATION", `"${shown}" is not a directory.`);
    }
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError("VALIDATION", `Cannot list "${shown}": ${reason(err)}`);
  }
  const names = entries
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
    .sort();
  if (names.length === 0) return "(empty)";
  const shownNames = names.slice(0, MAX_ENTRIES);
  if (names.length > MAX_ENTRIES) shownNames.push(`[${names.length - MAX_ENTRIES} more entries]`);
  return shownNames.join("\n");
}

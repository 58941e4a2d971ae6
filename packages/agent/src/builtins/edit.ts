/** The `edit` built-in: replaces one exact, unique occurrence of `old` by `new` in a file. */
import { readFile, writeFile } from "node:fs/promises";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { displayPath, insidePath } from "./paths.ts";
import { reason } from "./read.ts";

export function editTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "edit",
      description:
        "Replace the exact text `old` by `new` in a file. `old` must occur exactly once; include " +
        "enough surrounding lines to make it unique.",
      inputSchema: {
        type: "object",
        required: ["path", "old", "new"],
        properties: { path: { type: "string" }, old: { type: "string" }, new: { type: "string" } },
      },
    },
    async execute(input) {
      const path = insidePath(ctx.root, input.path);
      const oldText = str(input, "old");
      const newText = str(input, "new");
      const shown = displayPath(ctx.root, path);
      if (oldText === "") throw new EngineError("VALIDATION", `"old" must not be empty.`);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        throw new EngineError("VALIDATION", `Cannot edit "${shown}": ${reason(err)}`);
      }
      const first = text.indexOf(oldText);
      if (first === -1) {
        throw new EngineError("VALIDATION", `"old" was not found in ${shown}.`);
      }
      if (text.indexOf(oldText, first + 1) !== -1) {
        let count = 0;
        for (let at = first; at !== -1; at = text.indexOf(oldText, at + 1)) count++;
        throw new EngineError(
          "VALIDATION",
          `"old" is ambiguous in ${shown}: it occurs ${count} times; include more context.`,
        );
      }
      const next = text.slice(0, first) + newText + text.slice(first + oldText.length);
      await writeFile(path, next, "utf8");
      const removed = oldText.split("\n").length;
      const added = newText === "" ? 0 : newText.split("\n").length;
      return `Edited ${shown} (-${removed} +${added} lines).`;
    },
  };
}

/**
 * The `grep` built-in: a regular expression searched line by line through files of the working
 * directory, reported as matching lines, matching files or per-file counts.
 */
import { readFile, stat } from "node:fs/promises";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { optStr, str, strList } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { displayPath, insidePath } from "./paths.ts";
import { walkFiles } from "./walk.ts";

const MODES = ["content", "files_with_matches", "count"] as const;
/** Most output lines one `grep` returns. */
const MAX_LINES = 500;
/** Longest matching line shown (characters). */
const MAX_LINE_CHARS = 400;
/** Files larger than this are skipped. */
const MAX_FILE_BYTES = 2_000_000;

export function grepTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "grep",
      description:
        "Search files of the working directory for a regular expression (JavaScript syntax). " +
        "`path`: file(s) or directory(ies), default everything. `output_mode`: `content` " +
        "(path:line:text), `files_with_matches` (default) or `count`.",
      inputSchema: {
        type: "object",
        required: ["pattern"],
        properties: {
          pattern: { type: "string" },
          path: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
          output_mode: { type: "string", enum: [...MODES] },
        },
      },
    },
    async execute(input) {
      const source = str(input, "pattern");
      const mode = optStr(input, "output_mode") ?? "files_with_matches";
      if (!(MODES as readonly string[]).includes(mode)) {
        throw new EngineError("VALIDATION", `"output_mode" must be one of ${MODES.join(", ")}.`);
      }
      let regex: RegExp;
      try {
        regex = new RegExp(source);
      } catch (err) {
        throw new EngineError(
          "VALIDATION",
          `"pattern" is not a valid regular expression: ${(err as Error).message}`,
        );
      }
      const files: string[] = [];
      for (const given of strList(input, "path", ["."])) {
        const target = insidePath(ctx.root, given);
        const info = await stat(target).catch(() => null);
        if (info === null) throw new EngineError("VALIDATION", `"${given}" does not exist.`);
        if (info.isDirectory()) files.push(...(await walkFiles(target)));
        else files.push(target);
      }
      const out: string[] = [];
      for (const file of files) {
        if (out.length >= MAX_LINES) break;
        const info = await stat(file).catch(() => null);
        if (info === null || info.size > MAX_FILE_BYTES) continue;
        const text = await readFile(file, "utf8").catch(() => null);
        if (text === null || text.includes("\0")) continue;
        const rel = displayPath(ctx.root, file);
        let count = 0;
        const lines = text.split("\n");
        for (let i = 0; i < lines.length; i++) {
          if (!regex.test(lines[i]!)) continue;
          count++;
          if (mode === "content") {
            out.push(`${rel}:${i + 1}:${lines[i]!.slice(0, MAX_LINE_CHARS)}`);
            if (out.length >= MAX_LINES) break;
          } else if (mode === "files_with_matches") {
            break;
          }
        }
        if (count > 0 && mode === "files_with_matches") out.push(rel);
        if (count > 0 && mode === "count") out.push(`${rel}:${count}`);
      }
      if (out.length === 0) return "No matches.";
      if (out.length >= MAX_LINES) out.push(`[output stopped at ${MAX_LINES} lines]`);
      return out.join("\n");
    },
  };
}

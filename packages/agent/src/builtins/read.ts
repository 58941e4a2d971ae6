/** The `read` built-in: a file's text, optionally from a 1-based line for a number of lines. */
import { readFile } from "node:fs/promises";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { optInt } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { insidePath } from "./paths.ts";

/** Most lines one `read` returns. */
export const READ_MAX_LINES = 2000;
/** Most characters one `read` returns. */
export const READ_MAX_CHARS = 40_000;

export function readTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "read",
      description:
        "Read a text file of the working directory. `offset` is the 1-based first line, `limit` " +
        `the number of lines; at most ${READ_MAX_LINES} lines / ${READ_MAX_CHARS} characters per call.`,
      inputSchema: {
        type: "object",
        required: ["path"],
        properties: {
          path: { type: "string" },
          offset: { type: "integer", minimum: 1 },
          limit: { type: "integer", minimum: 1 },
        },
      },
    },
    async execute(input) {
      const path = insidePath(ctx.root, input.path);
      const offset = optInt(input, "offset") ?? 1;
      const limit = optInt(input, "limit");
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        throw new EngineError("VALIDATION", `Cannot read "${String(input.path)}": ${reason(err)}`);
      }
      const lines = text.split("\n");
      const wanted = Math.min(limit ?? READ_MAX_LINES, READ_MAX_LINES);
      const slice = lines.slice(offset - 1, offset - 1 + wanted);
      let out = slice.join("\n");
      const notes: string[] = [];
      if (out.length > READ_MAX_CHARS) {
        out = out.slice(0, READ_MAX_CHARS);
        notes.push(`output clipped at ${READ_MAX_CHARS} characters`);
      }
      const last = offset - 1 + slice.length;
      if (last < lines.length && (limit === undefined || limit > READ_MAX_LINES)) {
        notes.push(`${lines.length - last} more lines; read again with offset ${last + 1}`);
      }
      return notes.length === 0 ? out : `${out}\n[${notes.join("; ")}]`;
    },
  };
}

/** The short reason of a filesystem error. */
export function reason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EISDIR") return "it is a directory";
  if (code === "ENOTDIR") return "a parent is not a directory";
  return err instanceof Error ? err.message : String(err);
}

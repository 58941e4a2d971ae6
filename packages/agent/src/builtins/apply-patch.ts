/**
 * The `apply_patch` built-in: applies a multi-file patch (add, update, delete, move) to the
 * working directory, all or nothing — every operation is checked and computed before the first
 * file is touched.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { parsePatch, type PatchHunk } from "./patch-parse.ts";
import { displayPath, insidePath } from "./paths.ts";

/** Index of `needle` in `lines` at or after `from`, comparing with `same`; -1 when absent. */
function seek(
  lines: readonly string[],
  needle: readonly string[],
  from: number,
  same: (a: string, b: string) => boolean,
): number {
  for (let at = from; at + needle.length <= lines.length; at++) {
    if (needle.every((line, k) => same(lines[at + k]!, line))) return at;
  }
  return -1;
}

/** The file's lines after applying `hunks` in order. */
function applyHunks(text: string, hunks: readonly PatchHunk[], shown: string): string {
  const endsWithNewline = text.endsWith("\n");
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split("\n");
  let cursor = 0;
  for (const [n, hunk] of hunks.entries()) {
    if (hunk.anchor !== "") {
      const anchorAt = seek(lines, [hunk.anchor], cursor, (a, b) => a.trim() === b.trim());
      if (anchorAt !== -1) cursor = anchorAt;
    }
    let at =
      hunk.before.length === 0 ? lines.length : seek(lines, hunk.before, cursor, (a, b) => a === b);
    if (at === -1) at = seek(lines, hunk.before, cursor, (a, b) => a.trimEnd() === b.trimEnd());
    if (at === -1) at = seek(lines, hunk.before, 0, (a, b) => a.trim() === b.trim());
    if (at === -1) {
      throw new EngineError(
        "VALIDATION",
        `Patch hunk ${n + 1} of ${shown} does not match the file: its context and "-" lines were not found.`,
      );
    }
    lines.splice(at, hunk.before.length, ...hunk.after);
    cursor = at + hunk.after.length;
  }
  return lines.join("\n") + (endsWithNewline || text === "" ? "\n" : "");
}

export function applyPatchTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "apply_patch",
      description:
        "Apply a multi-file patch. Format: `*** Begin Patch`, then operations, then `*** End " +
        "Patch`. Operations: `*** Add File: <path>` followed by `+` lines; `*** Delete File: " +
        "<path>`; `*** Update File: <path>` (optionally `*** Move to: <path>`) followed by hunks " +
        "starting with `@@` whose lines begin with ` ` (context), `-` (remove) or `+` (add).",
      inputSchema: {
        type: "object",
        required: ["patch"],
        properties: { patch: { type: "string" } },
      },
    },
    async execute(input) {
      const ops = parsePatch(str(input, "patch"));
      const writes = new Map<string, string>();
      const deletes = new Set<string>();
      const summary: string[] = [];
      const current = async (path: string, shown: string): Promise<string> => {
        if (writes.has(path)) return writes.get(path)!;
        if (deletes.has(path) || !existsSync(path)) {
          throw new EngineError("VALIDATION", `Cannot patch ${shown}: the file does not exist.`);
        }
        return readFile(path, "utf8");
      };
      for (const op of ops) {
        const path = insidePath(ctx.root, op.path);
        const shown = displayPath(ctx.root, path);
        if (op.kind === "add") {
          if ((existsSync(path) && !deletes.has(path)) || writes.has(path)) {
            throw new EngineError("VALIDATION", `Cannot add ${shown}: the file already exists.`);
          }
          writes.set(path, op.lines.join("\n") + "\n");
          deletes.delete(path);
          summary.push(`A ${shown}`);
        } else if (op.kind === "delete") {
          await current(path, shown);
          writes.delete(path);
          deletes.add(path);
          summary.push(`D ${shown}`);
        } else {
          const next = applyHunks(await current(path, shown), op.hunks, shown);
          if (op.moveTo === undefined) {
            writes.set(path, next);
            summary.push(`M ${shown}`);
          } else {
            const target = insidePath(ctx.root, op.moveTo);
            writes.delete(path);
            deletes.add(path);
            writes.set(target, next);
            deletes.delete(target);
            summary.push(`R ${shown} -> ${displayPath(ctx.root, target)}`);
          }
        }
      }
      for (const path of deletes) if (!writes.has(path)) await rm(path, { force: true });
      for (const [path, text] of writes) {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, text, "utf8");
      }
      return `Applied the patch:\n${summary.join("\n")}`;
    },
  };
}

/**
 * Parser of the `apply_patch` format: a patch between `*** Begin Patch` and `*** End Patch`
 * holding file operations — `*** Add File: <path>` (every line `+`), `*** Delete File: <path>`,
 * `*** Update File: <path>` with an optional `*** Move to: <path>` and hunks introduced by `@@`
 * (lines prefixed ` ` context, `-` removed, `+` added; `*** End of File` is accepted).
 */
import { EngineError } from "@promenade/workflow/errors";

/** One hunk of an update: the lines to find and what replaces them. */
export interface PatchHunk {
  /** Text after `@@` (a locating line), or "" . */
  anchor: string;
  before: string[];
  after: string[];
}

export type PatchOp =
  | { kind: "add"; path: string; lines: string[] }
  | { kind: "delete"; path: string }
  | { kind: "update"; path: string; moveTo?: string; hunks: PatchHunk[] };

const fail = (message: string): EngineError =>
  new EngineError("VALIDATION", `Invalid patch: ${message}`);

/**
 * @throws EngineError `VALIDATION` (message starts `Invalid patch:`) for anything malformed.
 */
export function parsePatch(patch: string): PatchOp[] {
  const lines = patch.replaceAll("\r\n", "\n").split("\n");
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  let i = 0;
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (lines[i]?.trim() !== "*** Begin Patch") throw fail('it must start with "*** Begin Patch".');
  if (lines.at(-1)?.trim() !== "*** End Patch") throw fail('it must end with "*** End Patch".');
  const end = lines.length - 1;
  i++;
  const ops: PatchOp[] = [];
  const header = (line: string, prefix: string): string | null => {
    if (!line.startsWith(prefix)) return null;
    const path = line.slice(prefix.length).trim();
    if (path === "") throw fail(`"${prefix.trim()}" needs a path.`);
    return path;
  };
  while (i < end) {
    const line = lines[i]!;
    let path: string | null;
    if ((path = header(line, "*** Add File:")) !== null) {
      i++;
      const body: string[] = [];
      while (i < end && !lines[i]!.startsWith("*** ")) {
        const l = lines[i]!;
        if (!l.startsWith("+")) throw fail(`line ${i + 1}: added files take "+" lines only.`);
        body.push(l.slice(1));
        i++;
      }
      ops.push({ kind: "add", path, lines: body });
    } else if ((path = header(line, "*** Delete File:")) !== null) {
      i++;
      ops.push({ kind: "delete", path });
    } else if ((path = header(line, "*** Update File:")) !== null) {
      i++;
      const op: PatchOp & { kind: "update" } = { kind: "update", path, hunks: [] };
      const moveTo = lines[i] === undefined ? null : header(lines[i]!, "*** Move to:");
      if (moveTo !== null) {
        op.moveTo = moveTo;
        i++;
      }
      let hunk: PatchHunk | null = null;
      while (i < end && (!lines[i]!.startsWith("*** ") || lines[i] === "*** End of File")) {
        const l = lines[i]!;
        i++;
        if (l === "*** End of File") continue;
        if (l.startsWith("@@")) {
          hunk = { anchor: l.slice(2).trim(), before: [], after: [] };
          op.hunks.push(hunk);
          continue;
        }
        if (hunk === null) {
          hunk = { anchor: "", before: [], after: [] };
          op.hunks.push(hunk);
        }
        const sign = l[0] ?? " ";
        const text = l.slice(1);
        if (sign === " " || l === "") {
          hunk.before.push(text);
          hunk.after.push(text);
        } else if (sign === "-") {
          hunk.before.push(text);
        } else if (sign === "+") {
          hunk.after.push(text);
        } else {
          throw fail(`line ${i}: hunk lines start with " ", "-" or "+".`);
        }
      }
      if (op.hunks.length === 0 && op.moveTo === undefined) {
        throw fail(`"*** Update File: ${path}" has no changes.`);
      }
      ops.push(op);
    } else {
      throw fail(`line ${i + 1}: expected a file operation, got ${JSON.stringify(line)}.`);
    }
  }
  if (ops.length === 0) throw fail("it holds no file operation.");
  return ops;
}

/**
 * Standing instructions from `AGENTS.md` files, added to every leaf's first message with no
 * option: first the workflow's bundled file, then every `AGENTS.md` under the leaf's working
 * directory (the top one and nested ones down to depth 6, ordered by relative path; dependency,
 * build and dot directories skipped). Caps: 16 files, 32 KB per file (a clipped file ends with a
 * note), 128 KB in total. No file → no block at all.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const FILE = "AGENTS.md";
const MAX_FILES = 16;
const MAX_FILE_BYTES = 32 * 1024;
const MAX_TOTAL_BYTES = 128 * 1024;
const MAX_DEPTH = 6;
const SKIPPED = new Set(["node_modules", ".git", "dist", "build", ".next", "coverage", "vendor"]);

/** Relative paths of the workspace's instruction files, sorted. */
function findFiles(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isFile() && entry.name === FILE) {
        found.push(relative(root, join(dir, entry.name)).split(sep).join("/"));
      } else if (
        entry.isDirectory() &&
        depth < MAX_DEPTH &&
        !entry.name.startsWith(".") &&
        !SKIPPED.has(entry.name)
      ) {
        visit(join(dir, entry.name), depth + 1);
      }
    }
  };
  visit(root, 0);
  return found.sort();
}

/** The `<AGENTS.md …>` blocks of a leaf, workflow tier first. */
export function agentsMdBlocks(bundled: string | null | undefined, root: string): string[] {
  const sources: { source: "workflow" | "workspace"; path: string; read: () => string }[] = [];
  if (typeof bundled === "string" && bundled.trim() !== "") {
    sources.push({ source: "workflow", path: FILE, read: () => bundled });
  }
  for (const path of findFiles(root)) {
    sources.push({ source: "workspace", path, read: () => readFileSync(join(root, path), "utf8") });
  }
  const blocks: string[] = [];
  let total = 0;
  for (const { source, path, read } of sources.slice(0, MAX_FILES)) {
    let text: string;
    try {
      text = read();
    } catch {
      continue;
    }
    let bytes = Buffer.from(text, "utf8");
    const budget = Math.min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - total);
    if (budget <= 0) break;
    if (bytes.length > budget) {
      bytes = bytes.subarray(0, budget);
      text = `${bytes.toString("utf8").replace(/\uFFFD$/, "")}\n[truncated: the file is longer than ${budget} bytes]`;
    }
    total += bytes.length;
    blocks.push(`<${FILE} source="${source}" path="${path}">\n${text}\n</${FILE}>`);
  }
  return blocks;
}

/**
 * A bounded directory walk for `grep` and `glob`: files below a directory in sorted order,
 * skipping `.git` and `node_modules`, never following symlinked directories (so the walk cannot
 * leave the working directory), stopping after a fixed number of entries.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";

const SKIPPED = new Set([".git", "node_modules"]);

/** Most files one walk visits. */
export const WALK_MAX_FILES = 20_000;

/** Absolute paths of the regular files below `dir` (sorted, depth first). */
export async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (current: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (out.length >= WALK_MAX_FILES) return;
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED.has(entry.name)) await visit(path);
      } else if (entry.isFile()) {
        out.push(path);
      }
    }
  };
  await visit(dir);
  return out;
}

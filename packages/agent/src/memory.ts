/**
 * Per-agent memory: the path rule for `memory`, the three scoped file tools
 * (`memory_list`, `memory_read`, `memory_write`) and the index block loaded into the first
 * message. Invariant: no tool reads or writes outside the memory dir — lexically (`resolve` +
 * prefix test) and through symlinks (realpath of the deepest existing ancestor, Promenade).
 * The dir is created only when something is written. Persistence across runs is the engine's.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { EngineError } from "@promenade/workflow/errors";
import { realpathDeep } from "./builtins/paths.ts";
import type { AgentTool } from "./tools.ts";

const PATH_RULE = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[^/\\].*$/;

/** Names of the memory tools (fixed). */
export const MEMORY_TOOL_NAMES = ["memory_list", "memory_read", "memory_write"] as const;

/**
 * Checks the memory path rule (workspace-relative, no `.`/`..` segment, no leading `/`, no `\`).
 * @throws EngineError `VALIDATION` (message contains `memory` and `workspace-relative directory`).
 */
export function checkMemoryPath(memory: unknown): string {
  if (typeof memory !== "string" || !PATH_RULE.test(memory) || memory.includes("\\")) {
    throw new EngineError(
      "VALIDATION",
      `agent() memory ${JSON.stringify(memory)} must be a workspace-relative directory (no leading "/", no "\\", no "." or ".." segments).`,
      'Use a path like "memory/my-agent".',
    );
  }
  return memory;
}

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The absolute path of `path` inside `memDir`.
 * @throws EngineError `VALIDATION` (tool-level) for a non-string/empty path or one that escapes
 *   the memory directory, lexically or through a symlink.
 */
export function memoryFilePath(memDir: string, path: unknown): string {
  if (typeof path !== "string" || path === "") {
    throw new EngineError("VALIDATION", "memory tool: path must be a non-empty string.");
  }
  const candidate = resolve(memDir, path);
  if (!inside(memDir, candidate) || !inside(realpathDeep(memDir), realpathDeep(candidate))) {
    throw new EngineError(
      "VALIDATION",
      `memory path ${JSON.stringify(path)} escapes the memory directory.`,
    );
  }
  return candidate;
}

/**
 * Recursive listing: `<relative/path> (<size> bytes)` per file, sorted per directory. Symlinks
 * are not followed (one pointing outside must not reveal what is there).
 */
export function memoryListing(memDir: string): string {
  const lines: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const full = join(dir, name);
      let stats;
      try {
        stats = lstatSync(full);
      } catch {
        continue;
      }
      if (stats.isDirectory()) walk(full, `${prefix}${name}/`);
      else if (stats.isFile()) lines.push(`${prefix}${name} (${stats.size} bytes)`);
    }
  };
  walk(memDir, "");
  return lines.join("\n");
}

/** The `<memory …>` block of the first message. */
export function memoryIndexBlock(memory: string, memDir: string): string {
  const listing = memoryListing(memDir);
  const lines = [
    `<memory dir="${memory}">`,
    "Files:",
    listing === "" ? "(memory is empty)" : listing,
  ];
  const indexPath = join(memDir, "index.md");
  let indexIsFile = false;
  try {
    // lstat: an index.md symlinked out of the memory dir is not inlined.
    indexIsFile = lstatSync(indexPath).isFile();
  } catch {
    indexIsFile = false;
  }
  if (indexIsFile) {
    try {
      lines.push("index.md:", readFileSync(indexPath, "utf8"));
    } catch {
      // An unreadable index.md is listed but not inlined.
    }
  }
  lines.push(
    "Use memory_list, memory_read and memory_write to consult and update this memory; it persists across runs.",
    "</memory>",
  );
  return lines.join("\n");
}

/** The three memory tools scoped to `<workspaceDir>/<memory>`. */
export function memoryTools(memory: string, memDir: string): AgentTool[] {
  const label = `"${memory}"`;
  return [
    {
      spec: {
        name: "memory_list",
        description: `List the files in your memory directory ${label} (it persists across runs).`,
        inputSchema: { type: "object", properties: {}, additionalProperties: false },
      },
      execute() {
        const listing = memoryListing(memDir);
        return Promise.resolve(listing === "" ? "(memory is empty)" : listing);
      },
    },
    {
      spec: {
        name: "memory_read",
        description: `Read a file from your memory directory ${label} (it persists across runs). path is relative to that directory.`,
        inputSchema: {
          type: "object",
          properties: { path: { type: "string" } },
          required: ["path"],
          additionalProperties: false,
        },
      },
      async execute(input) {
        const path = input.path;
        const file = memoryFilePath(memDir, path);
        try {
          return await readFile(file, "utf8");
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            return `(no such memory file: ${String(path)})`;
          }
          throw err;
        }
      },
    },
    {
      spec: {
        name: "memory_write",
        description: `Create or replace a file in your memory directory ${label} (it persists across runs). path is relative to that directory.`,
        inputSchema: {
          type: "object",
          properties: { path: { type: "string" }, content: { type: "string" } },
          required: ["path", "content"],
          additionalProperties: false,
        },
      },
      async execute(input) {
        const path = input.path;
        const content = input.content;
        const file = memoryFilePath(memDir, path);
        if (typeof content !== "string") {
          throw new EngineError("VALIDATION", "memory_write: content must be a string.");
        }
        await mkdir(dirname(file), { recursive: true });
        // Re-check after creating parents: a symlinked parent must not redirect the write.
        memoryFilePath(memDir, path);
        await writeFile(file, content, "utf8");
        return `wrote ${String(path)} (${content.length} chars)`;
      },
    },
  ];
}

/**
 * Folder skills in a deploy body: `skillFolders` maps each skill name to its files (a relative
 * path → UTF-8 text), `SKILL.md` among them, as a workflow package's `skills/<name>/` folder holds
 * them. The body is checked here (names, paths that stay inside their folder, a `SKILL.md` per
 * folder); the files are then staged in a temporary directory the engine reads like any skills
 * folder, and removed after the deploy.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Skill name → (relative path → text). */
export type SkillFolders = Record<string, Record<string, string>>;

const SKILL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problem with a folder-relative path, or `null` when it stays inside its folder. */
function pathProblem(path: string): string | null {
  if (path === "" || path.length > 512) return "expected a relative path of 1 to 512 characters";
  if (path.includes("\\") || path.includes("\0")) return "use / as the separator, no \\ or NUL";
  if (path.startsWith("/")) return "expected a path relative to the skill folder";
  if (path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "path segments must not be empty, . or ..";
  }
  return null;
}

/**
 * Checks `skillFolders` of a deploy body, adding `[path, message]` issues; answers the folders
 * when there were none.
 */
export function checkSkillFolders(
  value: unknown,
  issues: [string, string][],
): SkillFolders | undefined {
  if (!isObject(value)) {
    issues.push([
      "skillFolders",
      'expected an object of skill name → { "SKILL.md": markdown, "<relative path>": text }',
    ]);
    return undefined;
  }
  const before = issues.length;
  for (const [name, files] of Object.entries(value)) {
    const at = `skillFolders.${name}`;
    if (!SKILL_NAME.test(name)) {
      issues.push([at, "invalid skill name (^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$)"]);
      continue;
    }
    if (!isObject(files)) {
      issues.push([at, "expected an object of relative path → text"]);
      continue;
    }
    if (typeof files["SKILL.md"] !== "string") {
      issues.push([
        at,
        'a folder skill needs "SKILL.md" (front matter name/description, then the body)',
      ]);
    }
    for (const [path, text] of Object.entries(files)) {
      const problem = pathProblem(path);
      if (problem !== null) issues.push([`${at}.${path}`, problem]);
      else if (typeof text !== "string") issues.push([`${at}.${path}`, "expected a string"]);
    }
  }
  return issues.length === before ? (value as SkillFolders) : undefined;
}

/** Writes the folders under a new temporary directory; `cleanup` removes it. */
export function stageSkillFolders(folders: SkillFolders): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "promenade-skills-"));
  try {
    for (const [name, files] of Object.entries(folders)) {
      for (const [path, text] of Object.entries(files)) {
        const file = join(dir, name, ...path.split("/"));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

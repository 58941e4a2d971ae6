/**
 * The files a deploy stores beside its program, as one map of key → text: an inline skill is keyed
 * by its name and lives at `<name>.md`; a folder-skill file is keyed by its path
 * `<name>/<relative path>`; the workflow's AGENTS.md is keyed `.workflow/AGENTS.md`. Skill names
 * never contain `/` or `.` nor start with `.`, so the three kinds never collide. Invariants: a key
 * never escapes the directory it is written into; reading a written directory gives the same map.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "@promenade/workflow/errors";

/** The key (and relative path) of the workflow's AGENTS.md in the stored files. */
export const AGENTS_MD_KEY = ".workflow/AGENTS.md";

/** Folder-skill names: letters, digits, `_` and `-`, starting with a letter or digit. */
const FOLDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$/;

/** The path under the files directory where `key` is written. */
export function fileOfKey(key: string): string {
  if (!key.includes("/")) return `${key}.md`;
  const parts = key.split("/");
  if (parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new EngineError("VALIDATION", `deployWorkflow: stored file path "${key}" is invalid.`);
  }
  return key;
}

/** The key of a file found at `relative` (slash-separated) under the files directory, or `null`. */
export function keyOfFile(relative: string): string | null {
  if (relative.includes("/")) return relative;
  return relative.endsWith(".md") ? relative.slice(0, -3) : null;
}

/** Every regular file under `dir`, as slash-separated paths relative to it, sorted. */
export function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) out.push(...listFiles(path, `${prefix}${name}/`));
    else if (stat.isFile()) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * The folder skills under `sourceDir`: each `<name>/SKILL.md` folder with every regular file in
 * it (symbolic links are skipped), keyed `<name>/<relative path>`. Top-level files are ignored.
 * @throws EngineError `VALIDATION` when the directory cannot be read, a folder has no `SKILL.md`
 *   or its name is not a skill name.
 */
export function collectFolderSkills(sourceDir: string): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(sourceDir).sort();
  } catch (error) {
    throw new EngineError(
      "VALIDATION",
      `deployWorkflow: skills directory ${sourceDir} could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const files: Record<string, string> = {};
  for (const name of names) {
    const folder = join(sourceDir, name);
    if (name.startsWith(".") || !lstatSync(folder).isDirectory()) continue;
    if (!FOLDER_NAME.test(name)) {
      throw new EngineError(
        "VALIDATION",
        `deployWorkflow: skill folder "${name}" is not a valid skill name.`,
        "Skill names match ^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$ (letters, digits, _ and -).",
      );
    }
    const inside = listFiles(folder);
    if (!inside.includes("SKILL.md")) {
      throw new EngineError(
        "VALIDATION",
        `deployWorkflow: skill folder "${name}" has no SKILL.md.`,
        "A folder skill is skills/<name>/SKILL.md (front matter name/description, then the body) plus any resource files.",
      );
    }
    for (const file of inside) files[`${name}/${file}`] = readFileSync(join(folder, file), "utf8");
  }
  return files;
}

/**
 * Which skills a pass sees: the skills of the version the run was created on, so a run resumed
 * after a redeploy that changed skills still reads the skills it started with. A version's skills
 * are written once, on the first pass that needs them, into `<dataDir>/skills/.versions/<versionId>/`
 * (read-only files laid out as the deploy laid them out: `<name>.md` per inline skill,
 * `<name>/<path>` per folder-skill file, `.workflow/AGENTS.md`); a version is immutable, so the directory is never
 * rewritten. A run without a recorded version, or on a version recorded before versions kept
 * skills, reads the workflow's skills folder `<dataDir>/skills/<workflowId>` as it is.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Execution } from "./execution.ts";
import type { SupervisorContext } from "./context.ts";

/** The skills a run's passes read: its version's own, or `null` for the workflow's folder. */
export interface VersionSkills {
  versionId: string;
  skills: Readonly<Record<string, string>>;
}

/** The skills directory handed to the child of this pass, `null` when there are no skills. */
export function passSkillsDir(ctx: SupervisorContext, exec: Execution): string | null {
  const own = exec.skills;
  if (own === null) {
    const dir = join(ctx.dataDir, "skills", exec.workflow.id);
    return existsSync(dir) ? dir : null;
  }
  const names = Object.keys(own.skills);
  if (names.length === 0) return null;
  const root = join(ctx.dataDir, "skills", ".versions");
  const target = join(root, own.versionId);
  if (existsSync(target)) return target;
  // Staged and renamed, so a crash or a concurrent pass never sees a half-written set.
  const staged = join(root, `.${own.versionId}.new-${randomBytes(6).toString("hex")}`);
  mkdirSync(staged, { recursive: true });
  try {
    for (const key of names) {
      const file = join(staged, fileOfKey(key));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, own.skills[key] ?? "", "utf8");
      chmodSync(file, 0o444);
    }
    renameSync(staged, target);
  } catch (error) {
    rmSync(staged, { recursive: true, force: true });
    // Another pass of the same version won the rename: its set is identical.
    if (!existsSync(target)) throw error;
  }
  return target;
}

/**
 * Where a stored skills key lives in a skills directory: a plain skill name is `<name>.md`, a key
 * with a path (`<skill>/SKILL.md`, `.workflow/AGENTS.md`) is that path. A key that could leave
 * the directory was refused at deploy; it is refused here too.
 */
function fileOfKey(key: string): string {
  if (!key.includes("/")) return `${key}.md`;
  const parts = key.split("/");
  if (parts.some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`refused a skills file key that leaves its directory: ${JSON.stringify(key)}`);
  }
  return key;
}

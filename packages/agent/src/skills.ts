/**
 * Skills: a skill is a deployed `<skillsDir>/<name>.md` file whose content is
 * wrapped as `<skill name="…">…</skill>` at the top of the first message. Read synchronously at
 * call time (validation step, before any network call). Redaction happens with the message.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EngineError } from "@promenade/workflow/errors";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Loads and wraps the skill `name`.
 * @throws EngineError `VALIDATION` for a bad name (`not a valid skill name`) or an undeployed
 *   skill (message contains `skills/<name>.md`).
 */
export function loadSkillBlock(name: unknown, skillsDir: string | null): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new EngineError(
      "VALIDATION",
      `agent() skill ${JSON.stringify(name)} is not a valid skill name (letters, digits, "_" and "-", starting with a letter or digit).`,
      "Name the skill after its file: skills/<name>.md.",
    );
  }
  let content: string;
  try {
    if (skillsDir === null) throw new Error("no skills deployed");
    content = readFileSync(join(skillsDir, `${name}.md`), "utf8");
  } catch {
    throw new EngineError(
      "VALIDATION",
      `agent() skill "${name}" is not deployed: skills/${name}.md was not found.`,
      `Deploy skills/${name}.md alongside the program.`,
    );
  }
  return `<skill name="${name}">\n${content}\n</skill>`;
}

/**
 * Skills, in two deployed shapes under the run's skills directory:
 * - flat `<name>.md`: the content is wrapped as `<skill name="…">…</skill>` into the first
 *   message;
 * - folder `<name>/SKILL.md` (front matter `name:` / `description:` between `---` fences, then
 *   the body, plus resource files): only a catalog line `- <name>: <description>` goes into the
 *   first message; the body and resources come through the `skill` tool when the model asks.
 * Read synchronously at call time (validation step, before any network call). A folder wins
 * when both shapes exist under one name.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { EngineError } from "@promenade/workflow/errors";
import { insidePath } from "./builtins/paths.ts";
import type { AgentTool } from "./tools.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Longest catalog description (bytes). */
const MAX_DESCRIPTION_BYTES = 500;
/** Longest skill body or resource file returned by the tool (bytes). */
const MAX_BODY_BYTES = 64 * 1024;
/** Most resource files listed. */
const MAX_RESOURCES = 100;

/** The name of the tool that loads folder skills. */
export const SKILL_TOOL = "skill";

/** A folder skill, as found at call time. */
export interface FolderSkill {
  name: string;
  description: string;
  dir: string;
  body: string;
}

/** A call's skills: flat blocks for the first message and the folder skills to catalog. */
export interface LoadedSkills {
  inlineBlocks: string[];
  folders: FolderSkill[];
}

function clipBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= max) return text;
  return bytes
    .subarray(0, max)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}

/** Front matter fields and the body of a `SKILL.md`. */
export function parseSkillFile(text: string): { fields: Record<string, string>; body: string } {
  const normalized = text.replaceAll("\r\n", "\n");
  const match = /^---\n([\s\S]*?)\n---[ \t]*(?:\n|$)/.exec(normalized);
  if (match === null) return { fields: {}, body: normalized };
  const fields: Record<string, string> = {};
  for (const line of match[1]!.split("\n")) {
    const field = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (field === null) continue;
    let value = field[2]!.trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    fields[field[1]!] = value;
  }
  return { fields, body: normalized.slice(match[0].length) };
}

function folderSkill(name: string, dir: string): FolderSkill {
  const { fields, body } = parseSkillFile(readFileSync(join(dir, "SKILL.md"), "utf8"));
  const firstLine =
    body
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line !== "" && !line.startsWith("#")) ?? "";
  const description = clipBytes(
    (fields.description ?? "") !== "" ? fields.description! : firstLine,
    MAX_DESCRIPTION_BYTES,
  );
  return { name, description, dir, body: body.replace(/^\n+/, "") };
}

/**
 * Finds every named skill.
 * @throws EngineError `VALIDATION` for a bad name (`not a valid skill name`) or a skill deployed
 *   in neither shape (message contains the name).
 */
export function loadSkills(names: readonly unknown[], skillsDir: string | null): LoadedSkills {
  const loaded: LoadedSkills = { inlineBlocks: [], folders: [] };
  for (const name of names) {
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new EngineError(
        "VALIDATION",
        `agent() skill ${JSON.stringify(name)} is not a valid skill name (letters, digits, "_" and "-", starting with a letter or digit).`,
        "Name the skill after its file (skills/<name>.md) or folder (skills/<name>/SKILL.md).",
      );
    }
    const folder = skillsDir === null ? null : join(skillsDir, name);
    if (folder !== null && existsSync(join(folder, "SKILL.md"))) {
      if (!loaded.folders.some((skill) => skill.name === name)) {
        loaded.folders.push(folderSkill(name, folder));
      }
      continue;
    }
    let content: string;
    try {
      if (skillsDir === null) throw new Error("no skills deployed");
      content = readFileSync(join(skillsDir, `${name}.md`), "utf8");
    } catch {
      throw new EngineError(
        "VALIDATION",
        `agent() skill "${name}" is not deployed: neither skills/${name}.md nor skills/${name}/SKILL.md was found.`,
        `Deploy skills/${name}.md or a skills/${name}/ folder with the program.`,
      );
    }
    loaded.inlineBlocks.push(`<skill name="${name}">\n${content}\n</skill>`);
  }
  return loaded;
}

/** The first-message catalog of folder skills. */
export function skillCatalogBlock(folders: readonly FolderSkill[]): string {
  return [
    `<skills>`,
    `Skills you can load with the \`${SKILL_TOOL}\` tool before doing work they describe:`,
    ...folders.map((skill) => `- ${skill.name}: ${skill.description}`),
    `</skills>`,
  ].join("\n");
}

function resourceFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (current: string): void => {
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (out.length >= MAX_RESOURCES) return;
      const path = join(current, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) {
        const rel = relative(dir, path).split(sep).join("/");
        if (rel !== "SKILL.md") out.push(rel);
      }
    }
  };
  visit(dir);
  return out.sort();
}

/** The `skill` tool over the call's folder skills. */
export function skillTool(folders: readonly FolderSkill[]): AgentTool {
  const byName = new Map(folders.map((skill) => [skill.name, skill]));
  return {
    spec: {
      name: SKILL_TOOL,
      description:
        "Load a skill listed in your instructions: returns its full text and its resource files. " +
        "With `file`, returns that resource file of the skill instead.",
      inputSchema: {
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", enum: folders.map((skill) => skill.name) },
          file: { type: "string" },
        },
      },
    },
    async execute(input) {
      const skill = typeof input.name === "string" ? byName.get(input.name) : undefined;
      if (skill === undefined) {
        throw new EngineError(
          "VALIDATION",
          `Unknown skill ${JSON.stringify(input.name)}; available: ${[...byName.keys()].join(", ")}.`,
        );
      }
      if (input.file !== undefined && input.file !== null) {
        const path = insidePath(skill.dir, input.file, "file");
        let text: string;
        try {
          text = readFileSync(path, "utf8");
        } catch {
          throw new EngineError(
            "VALIDATION",
            `Skill "${skill.name}" has no file ${JSON.stringify(input.file)}.`,
          );
        }
        return Promise.resolve(clipBytes(text, MAX_BODY_BYTES));
      }
      const files = resourceFiles(skill.dir);
      const parts = [
        `<skill name="${skill.name}">\n${clipBytes(skill.body, MAX_BODY_BYTES)}\n</skill>`,
      ];
      if (files.length > 0) {
        parts.push(
          `Resource files of this skill (load one with file):\n${files.map((f) => `- ${f}`).join("\n")}`,
        );
      }
      return Promise.resolve(parts.join("\n\n"));
    },
  };
}

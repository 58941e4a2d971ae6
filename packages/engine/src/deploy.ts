/**
 * Deploy-time checks and the skills directory. Derives the manifest statically (the program is
 * never executed), compiles a TypeScript program to JavaScript, validates cron triggers, deploy
 * config and skill names, and names ignored platform-extension fields. Knows nothing about SQL:
 * the facade upserts the row. Invariants: every check runs before anything is written; errors
 * name the uploaded file and positions in that file; the stored program is always JavaScript;
 * a skills set on disk is replaced atomically (temp dir + rename), never left half-written.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { JsonValue, WorkflowManifest } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import {
  CompileError,
  compileTypeScript,
  extractManifest,
  findTypeScriptSyntax,
} from "@promenade/workflow/extract";
import { readWebhookReplayPolicy } from "@promenade/workflow/limits";
import { checkInputSchema } from "./input-schema.ts";
import { parseRetentionPolicy } from "./retention-policy.ts";
import { isPlainObject, jsonProblem } from "./internal/json.ts";
import {
  AGENTS_MD_KEY,
  collectFolderSkills,
  fileOfKey,
  keyOfFile,
  listFiles,
} from "./skill-files.ts";

/** What `engine.deployWorkflow(args)` takes. */
export interface DeployArgs {
  /**
   * The program: one ESM module (SDK import left external, no other imports resolved) with a
   * pure-literal `meta`, in JavaScript or TypeScript (compiled at deploy).
   */
  program: string;
  /**
   * The program's file name, used in error messages and to choose the language: `.ts`/`.mts`
   * are compiled, `.mjs`/`.js` must be JavaScript. Default: `index.mjs`, or `index.ts` when the
   * source uses TypeScript syntax.
   */
  filename?: string;
  /** Engine-side deploy config (e.g. `{ catch_up: "once" }`); replaced wholesale on redeploy. Default `{}`. */
  config?: Record<string, JsonValue>;
  /** Skill name → markdown, written to `<dataDir>/skills/<workflowId>/<name>.md`; replaced wholesale. */
  skills?: Record<string, string>;
  /**
   * A directory of folder skills read at deploy: every `<name>/SKILL.md` folder, with all its
   * resource files, is stored with the deploy (text files, UTF-8). Other top-level entries are
   * ignored. Combines with `skills`; a folder wins over an inline skill of the same name at run time.
   */
  skillsSourceDir?: string;
  /** The workflow's standing instructions, added to every agent call; replaced on redeploy. */
  agentsMd?: string;
}

/** A deploy that passed every check, ready to be stored. */
export interface PreparedDeploy {
  manifest: WorkflowManifest;
  /** JavaScript (compiled when the source was TypeScript). */
  program: string;
  config: Record<string, JsonValue>;
  /** The stored files: see {@link deployFiles}. */
  skills: Record<string, string>;
  /** Platform-extension fields that are accepted but not enforced (for the deploy notice). */
  ignoredFields: string[];
}

/** The cron pieces of `@promenade/scheduler` the checks need (injected by the facade). */
export interface CronCheck {
  validate(expr: string, timezone: string | undefined): void;
}

/** Skill names: the SDK's call-time pattern, capped at 120 characters. */
export const SKILL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$/;

/**
 * Run every deploy check and compile a TypeScript program. Throws `VALIDATION` naming the
 * problem (and the file and line for source problems); never executes the program.
 */
export function prepareDeploy(args: DeployArgs, cron: CronCheck): PreparedDeploy {
  if (!isPlainObject(args)) {
    throw new EngineError(
      "VALIDATION",
      "deployWorkflow expects an object { program, filename?, config?, skills?, skillsSourceDir?, agentsMd? }.",
    );
  }
  const { program } = args;
  if (typeof program !== "string" || program.length === 0) {
    throw new EngineError(
      "VALIDATION",
      "deployWorkflow: `program` must be a non-empty string (the workflow's ESM source).",
      "Pass one module that imports only @promenade/workflow and node: builtins; bundle anything else into it.",
    );
  }
  const source = sourceOf(program, args.filename);
  let manifest: WorkflowManifest;
  try {
    manifest = extractManifest(program, { fileName: source.fileName });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes(" — syntax error: ")) {
      throw new EngineError("VALIDATION", message, "Fix the syntax at that line and column.", {
        cause: error,
      });
    }
    throw new EngineError(
      "VALIDATION",
      message,
      '`meta` must be an exported object literal of plain values (strings, numbers, booleans, null, arrays, objects) with a slug and triggers, e.g. export const meta = { slug: "hello", triggers: [{ kind: "manual" }] }.',
      { cause: error },
    );
  }
  checkCronTriggers(manifest, cron);
  checkInputSchema(manifest);
  const config = checkConfig(args.config);
  checkWebhookPolicy(config, manifest);
  const skills = deployFiles(args);
  return {
    manifest,
    program: source.typescript ? compile(program, source.fileName) : program,
    config,
    skills,
    ignoredFields: platformExtensionFields(manifest),
  };
}

const TYPESCRIPT_EXTENSIONS = [".ts", ".mts"];
const JAVASCRIPT_EXTENSIONS = [".mjs", ".js"];

/** The file name errors cite and whether the source is compiled as TypeScript. */
function sourceOf(program: string, filename: unknown): { fileName: string; typescript: boolean } {
  if (filename === undefined) {
    const typescript = findTypeScriptSyntax(program) !== null;
    return { fileName: typescript ? "index.ts" : "index.mjs", typescript };
  }
  const extension = typeof filename === "string" ? /\.[^.]+$/.exec(filename)?.[0] : undefined;
  if (
    typeof filename !== "string" ||
    !/^[^/\\]{1,255}$/.test(filename) ||
    extension === undefined ||
    ![...TYPESCRIPT_EXTENSIONS, ...JAVASCRIPT_EXTENSIONS].includes(extension)
  ) {
    throw new EngineError(
      "VALIDATION",
      `deployWorkflow: \`filename\` must be a file name ending in .ts, .mts, .mjs or .js (got ${JSON.stringify(filename)}).`,
      "Name the source file the program came from, e.g. hello.ts.",
    );
  }
  if (TYPESCRIPT_EXTENSIONS.includes(extension)) return { fileName: filename, typescript: true };
  const typescriptSyntax = findTypeScriptSyntax(program);
  if (typescriptSyntax !== null) {
    throw new EngineError(
      "VALIDATION",
      `${filename}:${typescriptSyntax.line}:${typescriptSyntax.column}: ${typescriptSyntax.message}`,
      `Name the file ${filename.replace(/\.[^.]+$/, ".ts")} to have it compiled, or compile it to JavaScript first.`,
    );
  }
  return { fileName: filename, typescript: false };
}

function compile(program: string, fileName: string): string {
  try {
    return compileTypeScript(program, { fileName });
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    throw new EngineError(
      "VALIDATION",
      error.message,
      "Fix the syntax error at that line; the program is compiled, not type-checked.",
      { cause: error },
    );
  }
}

function checkCronTriggers(manifest: WorkflowManifest, cron: CronCheck): void {
  manifest.triggers.forEach((trigger, index) => {
    if (trigger.kind !== "cron") return;
    try {
      cron.validate(trigger.expr, trigger.timezone);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new EngineError(
        "VALIDATION",
        `triggers[${index}] (cron "${trigger.expr}"): ${message}`,
        "Use 5 fields (min hour dom month dow) or 6 (sec first), and an IANA time zone.",
        { cause: error },
      );
    }
  });
}

function checkConfig(config: unknown): Record<string, JsonValue> {
  if (config === undefined) return {};
  if (!isPlainObject(config)) {
    throw new EngineError(
      "VALIDATION",
      "deployWorkflow: `config` must be a JSON object.",
      'For example { catch_up: "once" }.',
    );
  }
  const problem = jsonProblem(config, "config");
  if (problem !== null) throw new EngineError("VALIDATION", `deployWorkflow: ${problem}.`);
  const catchUp = config["catch_up"];
  if (catchUp !== undefined && catchUp !== "skip" && catchUp !== "once") {
    throw new EngineError(
      "VALIDATION",
      `deployWorkflow: config.catch_up must be "skip" or "once" (got ${JSON.stringify(catchUp)}).`,
      'Omit catch_up for the default "skip".',
    );
  }
  if (config["retention"] !== undefined) {
    parseRetentionPolicy(config["retention"], "deployWorkflow: config.retention");
  }
  return config as Record<string, JsonValue>;
}

/** `config.webhooks` (replay-proof webhooks) must be valid and fit the workflow's triggers. */
function checkWebhookPolicy(config: Record<string, JsonValue>, manifest: WorkflowManifest): void {
  const result = readWebhookReplayPolicy(config, manifest.triggers);
  if (!result.ok) {
    throw new EngineError(
      "VALIDATION",
      `deployWorkflow: ${result.problem}.`,
      'For example { webhooks: { strict: true, toleranceSeconds: 300 } } with a webhook trigger using auth "signature".',
    );
  }
}

/**
 * The files a deploy stores (key → text): the inline skills, the folder skills read from
 * `skillsSourceDir`, and the AGENTS.md text (omitted when empty).
 * @throws EngineError `VALIDATION` for a bad skill name or shape, an unreadable skills directory
 *   or a non-string `agentsMd`.
 */
export function deployFiles(args: DeployArgs): Record<string, string> {
  const files = checkSkills(args.skills);
  if (args.skillsSourceDir !== undefined) {
    if (typeof args.skillsSourceDir !== "string" || args.skillsSourceDir === "") {
      throw new EngineError(
        "VALIDATION",
        "deployWorkflow: `skillsSourceDir` must be a directory path.",
      );
    }
    Object.assign(files, collectFolderSkills(args.skillsSourceDir));
  }
  if (args.agentsMd !== undefined) {
    if (typeof args.agentsMd !== "string") {
      throw new EngineError(
        "VALIDATION",
        `deployWorkflow: \`agentsMd\` must be a string (got ${typeof args.agentsMd}).`,
      );
    }
    if (args.agentsMd !== "") files[AGENTS_MD_KEY] = args.agentsMd;
  }
  return files;
}

function checkSkills(skills: unknown): Record<string, string> {
  if (skills === undefined) return {};
  if (!isPlainObject(skills)) {
    throw new EngineError(
      "VALIDATION",
      "deployWorkflow: `skills` must be an object of skill name → markdown.",
    );
  }
  const out: Record<string, string> = {};
  for (const [name, markdown] of Object.entries(skills)) {
    if (!SKILL_NAME_PATTERN.test(name)) {
      throw new EngineError(
        "VALIDATION",
        `deployWorkflow: skill name "${name}" is invalid.`,
        "Skill names match ^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$ (letters, digits, _ and -).",
      );
    }
    if (typeof markdown !== "string") {
      throw new EngineError(
        "VALIDATION",
        `deployWorkflow: skill "${name}" must be a markdown string (got ${typeof markdown}).`,
      );
    }
    out[name] = markdown;
  }
  return out;
}

/** Explicitly set platform-extension fields this engine accepts but does not enforce. */
export function platformExtensionFields(manifest: WorkflowManifest): string[] {
  const fields: string[] = [];
  const record = manifest as unknown as Record<string, unknown>;
  for (const key of ["container", "egress", "notifications", "recording"]) {
    if (record[key] !== undefined) fields.push(key);
  }
  // Stored, never fired: this engine does not start runs when other workflows' runs end.
  manifest.triggers.forEach((trigger, index) => {
    if (trigger.kind === "workflow_run") fields.push(`triggers[${String(index)}] (workflow_run)`);
  });
  if (record["callable_by"] !== undefined && record["callable_by"] !== "anyone_in_org") {
    fields.push("callable_by");
  }
  const permissions = record["permissions"];
  if (isPlainObject(permissions)) {
    for (const key of ["id_token", "artifacts", "contents"]) {
      if (permissions[key] !== undefined) fields.push(`permissions.${key}`);
    }
  }
  return fields;
}

/** `<dataDir>/skills/<workflowId>`. */
export function skillsDir(dataDir: string, workflowId: string): string {
  return join(dataDir, "skills", workflowId);
}

/**
 * Replace the workflow's stored files directory (skills, folder-skill files, AGENTS.md; keys as in
 * {@link deployFiles}) wholesale: no entries ⇒ no directory. Written into a temp dir and renamed, so a crash never leaves a half-written set.
 */
export function writeSkills(
  dataDir: string,
  workflowId: string,
  skills: Readonly<Record<string, string>>,
): void {
  const root = join(dataDir, "skills");
  const target = skillsDir(dataDir, workflowId);
  const suffix = randomBytes(6).toString("hex");
  const names = Object.keys(skills);
  let staged: string | undefined;
  const paths = names.map((name) => fileOfKey(name));
  if (names.length > 0) {
    staged = join(root, `.${workflowId}.new-${suffix}`);
    mkdirSync(staged, { recursive: true });
    for (const [i, name] of names.entries()) {
      const file = join(staged, paths[i]!);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, skills[name] ?? "", "utf8");
    }
  }
  const retired = join(root, `.${workflowId}.old-${suffix}`);
  let hadOld = true;
  try {
    renameSync(target, retired);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    hadOld = false;
  }
  if (staged !== undefined) renameSync(staged, target);
  if (hadOld) rmSync(retired, { recursive: true, force: true });
}

/** The stored files currently on disk for a workflow (see {@link deployFiles}), `{}` when none. */
export function readSkills(dataDir: string, workflowId: string): Record<string, string> {
  const dir = skillsDir(dataDir, workflowId);
  const out: Record<string, string> = {};
  let files: string[];
  try {
    files = listFiles(dir);
  } catch {
    return out;
  }
  for (const file of files) {
    const key = keyOfFile(file);
    if (key !== null) out[key] = readFileSync(join(dir, file), "utf8");
  }
  return out;
}

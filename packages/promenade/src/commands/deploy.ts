/**
 * `promenade deploy <file…>`: upload workflows to a server. A self-contained file (it imports
 * only the SDK and `node:` builtins) is uploaded as written, so the server compiles it and its
 * errors point at the file's own lines. A file that imports local modules or packages, and a
 * package directory (entry `index.*`, `skills/*.md` inline skills, `skills/<name>/SKILL.md`
 * folder skills with their files, a root `AGENTS.md`, `promenade.config.json`), are bundled here
 * first with the same bundler the server uses for its workflows directory. One bad file does not
 * stop the others; the exit code is 1 if any failed.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, relative, resolve } from "node:path";
import type { JsonValue } from "@promenade/workflow";
import { JSON_OPTION, SERVER_OPTIONS } from "../args.ts";
import { ApiClient } from "../client/api.ts";
import type { DeployBody } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { colorEnabled, createStyle } from "../format/color.ts";

const FILE_EXTENSIONS = [".ts", ".mts", ".mjs", ".js"];
const PACKAGE_ENTRIES = ["index.ts", "index.mts", "index.mjs", "index.js"];
const SDK_SPECIFIER = /^(?:@promenade\/workflow|@boardwalk-labs\/workflow)(?:\/|$)|^node:/;
const IMPORT_SPECIFIERS =
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)|\b(?:import|export)\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/g;

/** The specifiers a module imports (static, re-export and literal dynamic imports). */
export function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT_SPECIFIERS)) {
    const specifier = match[1] ?? match[2];
    if (specifier !== undefined) found.push(specifier);
  }
  return found;
}

/** True when a file can be uploaded as written: it imports only the SDK and `node:` builtins. */
export function selfContained(source: string): boolean {
  return importSpecifiers(source).every((specifier) => SDK_SPECIFIER.test(specifier));
}

/** Bundle with the server's bundler (esbuild), loaded only when a file needs it. */
async function bundle(entryFile: string): Promise<string> {
  const { bundleWorkflow } = await import("@promenade/server");
  return bundleWorkflow({ entryFile });
}

/**
 * Read `meta` from the source as written, so a bad `meta` is reported with the author's file
 * name and line before anything is bundled or uploaded (a bundle's lines are not theirs).
 * @throws CliError `VALIDATION` naming `file:line:column`.
 */
async function checkMeta(source: string, fileName: string): Promise<void> {
  const { extractManifest } = await import("@promenade/workflow/extract");
  try {
    extractManifest(source, { fileName });
  } catch (error) {
    throw new CliError(`VALIDATION: ${error instanceof Error ? error.message : String(error)}`, {
      code: "VALIDATION",
      hint: 'meta must be an exported object literal of plain values with a slug and triggers, e.g. export const meta = { slug: "hello", triggers: [{ kind: "manual" }] }.',
    });
  }
}

/** The deploy body for one path. @throws CliError for a read, meta, bundle or config problem. */
export async function deployBody(path: string): Promise<DeployBody> {
  if (statSync(path).isDirectory()) return packageBody(path);
  const source = readFileSync(path, "utf8");
  const name = basename(path);
  await checkMeta(source, name);
  if (selfContained(source)) return { program: source, filename: name };
  const program = await bundle(path);
  return { program, filename: `${name.replace(/\.[^.]+$/, "")}.mjs` };
}

/** Every regular file under `dir` (symbolic links skipped), as `/`-separated relative paths. */
function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const stat = lstatSync(join(dir, name));
    if (stat.isDirectory()) out.push(...filesUnder(join(dir, name), `${prefix}${name}/`));
    else if (stat.isFile()) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * The skills of a package's `skills/` directory: flat `<name>.md` files are inline skills;
 * `<name>/` folders are folder skills, sent with every file in them.
 */
function packageSkills(skillsDir: string): {
  skills: Record<string, string>;
  skillFolders: Record<string, Record<string, string>>;
} {
  const skills: Record<string, string> = {};
  const skillFolders: Record<string, Record<string, string>> = {};
  if (!existsSync(skillsDir) || !statSync(skillsDir).isDirectory()) return { skills, skillFolders };
  for (const entry of readdirSync(skillsDir).sort()) {
    if (entry.startsWith(".")) continue;
    const path = join(skillsDir, entry);
    const stat = lstatSync(path);
    if (stat.isFile() && entry.endsWith(".md")) {
      skills[entry.slice(0, -3)] = readFileSync(path, "utf8");
    } else if (stat.isDirectory()) {
      const files: Record<string, string> = {};
      for (const file of filesUnder(path)) files[file] = readFileSync(join(path, file), "utf8");
      skillFolders[entry] = files;
    }
  }
  return { skills, skillFolders };
}

async function packageBody(dir: string): Promise<DeployBody> {
  const entry = PACKAGE_ENTRIES.map((name) => join(dir, name)).find((path) => existsSync(path));
  if (entry === undefined) {
    throw new CliError(`${dir} has no entry file (${PACKAGE_ENTRIES.join(", ")}).`, {
      hint: "A workflow package directory holds index.ts (or .mts/.mjs/.js), optional skills/*.md, skills/<name>/SKILL.md folders, AGENTS.md and promenade.config.json.",
    });
  }
  const { skills, skillFolders } = packageSkills(join(dir, "skills"));
  const agentsMdPath = join(dir, "AGENTS.md");
  const agentsMd =
    existsSync(agentsMdPath) && statSync(agentsMdPath).isFile()
      ? readFileSync(agentsMdPath, "utf8")
      : undefined;
  let config: Record<string, JsonValue> | undefined;
  const configPath = join(dir, "promenade.config.json");
  if (existsSync(configPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (error) {
      throw new CliError(
        `${configPath} is not valid JSON: ${error instanceof Error ? error.message : String(error)}.`,
      );
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new CliError(`${configPath} must hold a JSON object, e.g. {"catch_up":"once"}.`);
    }
    config = parsed as Record<string, JsonValue>;
  }
  await checkMeta(readFileSync(entry, "utf8"), `${basename(dir)}/${basename(entry)}`);
  const program = await bundle(entry);
  return {
    program,
    filename: "index.mjs",
    skills,
    ...(Object.keys(skillFolders).length === 0 ? {} : { skillFolders }),
    ...(agentsMd === undefined ? {} : { agentsMd }),
    ...(config === undefined ? {} : { config }),
  };
}

/** `promenade deploy`. */
export const deployCommand: Command = {
  spec: {
    name: "deploy",
    summary: "deploy workflow files or package directories to a server",
    description:
      "Deploys each workflow (a .ts/.mts/.mjs/.js file, or a package directory with index.ts, skills/*.md inline skills, skills/<name>/SKILL.md folder skills, AGENTS.md and promenade.config.json) to a server. Redeploying a slug replaces its program and keeps its id and runs.",
    options: { ...JSON_OPTION, ...SERVER_OPTIONS },
    positionals: [{ name: "file", required: true, variadic: true }],
    examples: ["promenade deploy workflows/hello.ts", "promenade deploy workflows/*.ts --json"],
  },
  async run(args, io) {
    const paths = args.positionals.map((p) => resolve(io.cwd, p));
    for (const [i, path] of paths.entries()) {
      const given = args.positionals[i] ?? path;
      if (!existsSync(path)) {
        throw new UsageError(
          `${given} does not exist.`,
          "Name workflow files or package directories.",
        );
      }
      if (!statSync(path).isDirectory() && !FILE_EXTENSIONS.includes(extname(path))) {
        throw new UsageError(
          `${given} is not a workflow file (${FILE_EXTENSIONS.join(", ")}) or directory.`,
          "Name workflow files or package directories.",
        );
      }
    }
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    const style = createStyle(colorEnabled(io.stderr, io.env));
    const json = args.values["json"] === true;
    const results: Record<string, unknown>[] = [];
    let failed = 0;
    for (const path of paths) {
      const shown = relative(io.cwd, path) || path;
      try {
        const body = await deployBody(path);
        const { workflow, created } = await client.deploy(body);
        results.push({ file: shown, slug: workflow.slug, id: workflow.id, created });
        if (!json) {
          io.stderr.write(
            `${style.green("deployed")} "${workflow.slug}" from ${shown}${created ? " (new)" : " (updated)"}\n`,
          );
        }
      } catch (error) {
        // An unreachable server fails every file the same way: stop at the first.
        if (error instanceof CliError && error.code === "UNREACHABLE") throw error;
        failed += 1;
        const message = error instanceof Error ? error.message : String(error);
        const hint = error instanceof CliError ? error.hint : undefined;
        results.push({ file: shown, error: message });
        io.stderr.write(`${style.red("failed")}   ${shown}: ${message}\n`);
        if (hint !== undefined) io.stderr.write(`  hint: ${hint}\n`);
      }
    }
    if (json) io.stdout.write(`${JSON.stringify({ deployed: results })}\n`);
    return failed === 0 ? 0 : 1;
  },
};

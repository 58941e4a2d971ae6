/**
 * The one workflows-dir rule: scan a directory's top level, turn each entry into
 * `DeployArgs` (verbatim `.mjs`/`.js`, bundled `.ts`/`.mts`, package directories with flat
 * `skills/<name>.md` skills, `skills/<name>/SKILL.md` folder skills, a root `AGENTS.md` and
 * `promenade.config.json`), and deploy it through the facade. Knows nothing about SQL or
 * bundling (the bundler is injected). Invariants: never throws for one bad entry (it is reported
 * under `skipped` and logged); an unchanged entry writes nothing; one slug per scan.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { JsonValue } from "@promenade/workflow";
import type { Awaitable } from "@promenade/workflow/records";
import { extractManifest } from "@promenade/workflow/extract";
import { deployFiles } from "./deploy.ts";
import type { DeployArgs } from "./deploy.ts";
import { isPlainObject } from "./internal/json.ts";

/** Options of `engine.deployWorkflowsFromDir(dir, options)`. */
export interface DirDeployOptions {
  /**
   * Bundles a `.ts`/`.mts` file or a package entry into one ESM program (SDK import external).
   * Without it those entries are skipped; `.mjs`/`.js` files need no bundler.
   */
  bundle?: (entryFile: string) => Promise<string>;
  /** Where the scan's lines go (one per entry: deployed, unchanged or skipped). Default: the engine's log. */
  log?: (line: string) => void;
}

/** What one `deployWorkflowsFromDir` call did. */
export interface DirDeployReport {
  /** Entries deployed (or found unchanged: `changed: false`). */
  deployed: { file: string; slug: string; changed: boolean }[];
  /** Entries not deployed, with the reason (also logged). */
  skipped: { file: string; reason: string }[];
}

/** What the scan needs from the facade. */
export interface DirDeployTarget {
  deploy(args: DeployArgs): unknown;
  /**
   * The deployed workflows' programs, each with its slug. An entry whose program is one of them
   * has that slug (a slug comes from the program's `meta`): the scan then needs no parse, so a
   * restart with unchanged workflows never loads the TypeScript compiler.
   */
  deployedPrograms(): Awaitable<ReadonlyMap<string, string>>;
  /** The stored program, config and files (skills, AGENTS.md) of `slug`, or `null` when not deployed. */
  current(slug: string): Awaitable<{
    program: string;
    config: Record<string, JsonValue>;
    skills: Record<string, string>;
  } | null>;
  log(line: string): void;
}

const PACKAGE_ENTRIES = ["index.ts", "index.mts", "index.js", "index.mjs"];

/** Deploy every workflow found at the top level of `dir`. Never rejects for an entry. */
export async function deployFromDir(
  dir: string,
  options: DirDeployOptions,
  target: DirDeployTarget,
): Promise<DirDeployReport> {
  const report: DirDeployReport = { deployed: [], skipped: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return report;
    const reason = error instanceof Error ? error.message : String(error);
    target.log(`workflows dir ${dir} could not be read: ${reason}`);
    report.skipped.push({ file: dir, reason });
    return report;
  }
  const slugSources = new Map<string, string>();
  let deployed: ReadonlyMap<string, string> | undefined;
  for (const name of names.sort()) {
    if (ignored(name)) continue;
    const path = join(dir, name);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      skip(report, target, path, error instanceof Error ? error.message : String(error));
      continue;
    }
    const label = isDirectory ? `${path}/` : path;
    const extension = extname(name);
    if (!isDirectory && extension === ".tgz") {
      skip(
        report,
        target,
        label,
        "packaged .tgz workflows are not supported; use a single-file .mjs/.js/.ts or a package directory",
      );
      continue;
    }
    if (!isDirectory && ![".mjs", ".js", ".ts", ".mts"].includes(extension)) continue;
    try {
      const args = await loadEntry(path, isDirectory, extension, options);
      if (typeof args === "string") {
        skip(report, target, label, args);
        continue;
      }
      deployed ??= await target.deployedPrograms();
      const slug =
        deployed.get(args.program) ?? extractManifest(args.program, { fileName: "index.mjs" }).slug;
      const earlier = slugSources.get(slug);
      if (earlier !== undefined) {
        skip(report, target, label, `slug "${slug}" is already deployed from ${earlier}`);
        continue;
      }
      slugSources.set(slug, label);
      const current = await target.current(slug);
      const unchanged =
        current !== null &&
        current.program === args.program &&
        isDeepStrictEqual(current.config, args.config ?? {}) &&
        isDeepStrictEqual(current.skills, deployFiles(args));
      if (!unchanged) await target.deploy(args);
      target.log(`deployed "${slug}" from ${label}${unchanged ? " (unchanged)" : ""}`);
      report.deployed.push({ file: label, slug, changed: !unchanged });
    } catch (error) {
      skip(report, target, label, error instanceof Error ? error.message : String(error));
    }
  }
  return report;
}

function ignored(name: string): boolean {
  return (
    name.startsWith(".") ||
    name.startsWith("_") ||
    name === "node_modules" ||
    name.endsWith(".d.ts") ||
    name.endsWith(".d.mts")
  );
}

function skip(
  report: DirDeployReport,
  target: DirDeployTarget,
  file: string,
  reason: string,
): void {
  target.log(`skipped ${file}: ${reason.split("\n").join("\n  ")}`);
  report.skipped.push({ file, reason });
}

/** The deploy args of one entry, or a skip reason. Throws for read/bundle/parse failures. */
async function loadEntry(
  path: string,
  isDirectory: boolean,
  extension: string,
  options: DirDeployOptions,
): Promise<DeployArgs | string> {
  const noBundler =
    "TypeScript files and package directories need a bundler: pass deployWorkflowsFromDir(dir, { bundle })";
  if (!isDirectory) {
    if (extension === ".mjs" || extension === ".js") return { program: readFileSync(path, "utf8") };
    if (options.bundle === undefined) return noBundler;
    return { program: await options.bundle(path) };
  }
  const entry = packageEntry(path);
  if (entry === null) {
    return `no entry file (${PACKAGE_ENTRIES.join(", ")})`;
  }
  if (options.bundle === undefined) return noBundler;
  const skills: Record<string, string> = {};
  let skillsSourceDir: string | undefined;
  const skillsPath = join(path, "skills");
  if (existsSync(skillsPath) && statSync(skillsPath).isDirectory()) {
    for (const file of readdirSync(skillsPath).sort()) {
      const filePath = join(skillsPath, file);
      if (file.endsWith(".md") && statSync(filePath).isFile()) {
        skills[file.slice(0, -3)] = readFileSync(filePath, "utf8");
      } else if (!file.startsWith(".") && statSync(filePath).isDirectory()) {
        skillsSourceDir = skillsPath;
      }
    }
  }
  const agentsMdPath = join(path, "AGENTS.md");
  const agentsMd =
    existsSync(agentsMdPath) && statSync(agentsMdPath).isFile()
      ? readFileSync(agentsMdPath, "utf8")
      : undefined;
  let config: Record<string, JsonValue> = {};
  const configPath = join(path, "promenade.config.json");
  if (existsSync(configPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configPath, "utf8"));
    } catch (error) {
      throw new Error(
        `promenade.config.json is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!isPlainObject(parsed)) throw new Error("promenade.config.json must hold a JSON object");
    config = parsed as Record<string, JsonValue>;
  }
  return {
    program: await options.bundle(entry),
    config,
    skills,
    ...(skillsSourceDir === undefined ? {} : { skillsSourceDir }),
    ...(agentsMd === undefined ? {} : { agentsMd }),
  };
}

function packageEntry(dir: string): string | null {
  const manifestPath = join(dir, "package.json");
  if (existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, unknown>;
      for (const field of ["module", "main"]) {
        const value = manifest[field];
        if (typeof value === "string" && value.length > 0 && existsSync(join(dir, value))) {
          return join(dir, value);
        }
      }
    } catch {
      // An unreadable package.json falls back to the index.* convention below.
    }
  }
  for (const name of PACKAGE_ENTRIES) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

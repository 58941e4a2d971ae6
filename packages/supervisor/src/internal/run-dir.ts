/**
 * Run directories and durable workspace state. Layout is idempotent and
 * cheap (it runs on every pass, on the start-latency path); both SDK specifiers are symlinks to
 * one realpath so program and child runtime share one SDK module instance. Persisting builds the
 * new durable root in a temp dir and swaps it in, so a failed copy leaves the old state intact.
 */
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Absolute paths of one run's directories. */
export interface RunDirs {
  runDir: string;
  programDir: string;
  programPath: string;
  workspaceDir: string;
  artifactsDir: string;
}

/**
 * Where runs live: `dataDir` holds what every node of a cluster must read (artifacts, skills,
 * durable workspace state, tokens); `workDir` holds the run's working directory (program and
 * workspace), local to the machine. The same directory unless configured apart.
 */
export interface RunRoots {
  dataDir: string;
  workDir: string;
}

/**
 * Paths only, no I/O: the run dir `<workDir>/runs/<runId>` (program, workspace) and its artifacts
 * in `<dataDir>/runs/<runId>/artifacts` — inside the run dir when both roots are one.
 */
export function runDirs(roots: RunRoots, runId: string): RunDirs {
  const runDir = join(roots.workDir, "runs", runId);
  const programDir = join(runDir, "program");
  return {
    runDir,
    programDir,
    programPath: join(programDir, "index.mjs"),
    workspaceDir: join(runDir, "workspace"),
    artifactsDir: join(roots.dataDir, "runs", runId, "artifacts"),
  };
}

const SDK_SPECIFIERS = [
  ["@promenade", "workflow"],
  ["@boardwalk-labs", "workflow"],
] as const;

/** Creates the layout (keeping existing links) and writes the program file. */
export function layoutRunDir(dirs: RunDirs, program: string, sdkPackageDir: string): void {
  layoutSkeleton(dirs, sdkPackageDir);
  writeFileSync(dirs.programPath, program);
}

/**
 * Everything of the layout except the program file and the artifacts dir (made when the run
 * writes its first artifact). Idempotent.
 */
function layoutSkeleton(dirs: Omit<RunDirs, "artifactsDir">, sdkPackageDir: string): void {
  mkdirSync(dirs.workspaceDir, { recursive: true });
  for (const [scope, name] of SDK_SPECIFIERS) {
    const scopeDir = join(dirs.programDir, "node_modules", scope);
    const link = join(scopeDir, name);
    const target = linkTarget(link);
    if (target === sdkPackageDir) continue;
    // A link to another SDK (laid out by an engine of an earlier version, or one configured with
    // another run-process entry): the program must import the SDK its runtime shares.
    if (target !== null) rmSync(link, { recursive: true, force: true });
    mkdirSync(scopeDir, { recursive: true });
    symlinkSync(sdkPackageDir, link, "dir");
  }
}

const SPARE_PREFIX = ".spare-";

/**
 * Run directories laid out ahead of time (workspace, both SDK links), so a run's first pass
 * costs one rename instead of a dozen filesystem calls on the start-latency path. Spares live
 * in `<workDir>/runs/.spare-*` (never a run id: ULIDs have no dot) and are refilled in the
 * background; leftovers of an earlier engine are reused after re-checking their layout.
 */
export class SpareRunDirs {
  private readonly ready: string[] = [];
  private readonly runsDir: string;
  private readonly sdkPackageDir: string;
  private readonly size: number;
  private scheduled = false;
  private closed = false;

  constructor(workDir: string, sdkPackageDir: string, size: number) {
    this.runsDir = join(workDir, "runs");
    this.sdkPackageDir = sdkPackageDir;
    this.size = size;
  }

  /**
   * Moves a prepared spare to the run's directory when the run has none yet; false when no spare
   * was ready (the caller lays the directory out itself).
   */
  take(dirs: RunDirs): boolean {
    if (existsSync(dirs.runDir)) return false;
    const spare = this.ready.pop();
    this.fill();
    if (spare === undefined) return false;
    try {
      renameSync(spare, dirs.runDir);
      return true;
    } catch {
      rmSync(spare, { recursive: true, force: true });
      return false;
    }
  }

  /** Prepares spares up to the target size on a later macrotask. */
  fill(): void {
    if (this.scheduled || this.closed || this.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed) return;
      try {
        if (this.ready.length === 0) this.adoptLeftovers();
        if (this.ready.length < this.size) mkdirSync(this.runsDir, { recursive: true });
        while (!this.closed && this.ready.length < this.size) {
          const path = join(this.runsDir, `${SPARE_PREFIX}${randomBytes(8).toString("hex")}`);
          this.create(path);
          this.ready.push(path);
        }
      } catch {
        // Spares are an optimisation: a run lays its directory out itself when none is ready.
      }
    });
  }

  /** Stops refilling. Prepared spares stay on disk for the next engine. */
  close(): void {
    this.closed = true;
  }

  private adoptLeftovers(): void {
    if (!existsSync(this.runsDir)) return;
    for (const name of readdirSync(this.runsDir)) {
      if (!name.startsWith(SPARE_PREFIX) || this.ready.length >= this.size) continue;
      const path = join(this.runsDir, name);
      this.prepare(path);
      this.ready.push(path);
    }
  }

  /** A brand-new spare: plain mkdirs in order and the two links (no recursive stat walks). */
  private create(path: string): void {
    mkdirSync(path);
    mkdirSync(join(path, "workspace"));
    const modules = join(path, "program", "node_modules");
    mkdirSync(join(path, "program"));
    mkdirSync(modules);
    for (const [scope, name] of SDK_SPECIFIERS) {
      mkdirSync(join(modules, scope));
      symlinkSync(this.sdkPackageDir, join(modules, scope, name), "dir");
    }
  }

  private prepare(path: string): void {
    const programDir = join(path, "program");
    layoutSkeleton(
      {
        runDir: path,
        programDir,
        programPath: join(programDir, "index.mjs"),
        workspaceDir: join(path, "workspace"),
      },
      this.sdkPackageDir,
    );
  }
}

/** Where the link at `path` points; `null` when nothing is there, `""` when it is no link. */
function linkTarget(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? null : "";
  }
}

/** `<dataDir>/persist/<workflowId>`. */
export function durableRoot(dataDir: string, workflowId: string): string {
  return join(dataDir, "persist", workflowId);
}

/** Copies the durable root (if any) into a fresh workspace. */
export function hydrateWorkspace(dataDir: string, workflowId: string, workspaceDir: string): void {
  const root = durableRoot(dataDir, workflowId);
  if (!existsSync(root)) return;
  cpSync(root, workspaceDir, { recursive: true, force: true, verbatimSymlinks: true });
}

/**
 * Writes durable state after a successful run. `persist === true` replaces the whole root with
 * the workspace; otherwise each dir of `dirs` is replaced (or removed when the run deleted it).
 * Nothing happens when there is nothing to persist.
 */
export function persistWorkspace(args: {
  dataDir: string;
  workflowId: string;
  runId: string;
  workspaceDir: string;
  persist: boolean | readonly string[] | undefined;
  memoryDirs: ReadonlySet<string>;
}): void {
  const whole = args.persist === true;
  const dirs = new Set<string>(Array.isArray(args.persist) ? args.persist : []);
  for (const dir of args.memoryDirs) dirs.add(dir);
  if (!whole && dirs.size === 0) return;

  const root = durableRoot(args.dataDir, args.workflowId);
  const parent = join(args.dataDir, "persist");
  mkdirSync(parent, { recursive: true });
  const staging = join(parent, `.staging-${args.workflowId}-${args.runId}`);
  const retired = join(parent, `.retired-${args.workflowId}-${args.runId}`);
  rmSync(staging, { recursive: true, force: true });
  rmSync(retired, { recursive: true, force: true });
  try {
    if (whole) {
      cpSync(args.workspaceDir, staging, { recursive: true, verbatimSymlinks: true });
    } else {
      if (existsSync(root)) cpSync(root, staging, { recursive: true, verbatimSymlinks: true });
      else mkdirSync(staging, { recursive: true });
      for (const dir of dirs) {
        rmSync(join(staging, dir), { recursive: true, force: true });
        const source = join(args.workspaceDir, dir);
        if (existsSync(source)) {
          cpSync(source, join(staging, dir), { recursive: true, verbatimSymlinks: true });
        }
      }
    }
    const hadRoot = existsSync(root);
    if (hadRoot) renameSync(root, retired);
    try {
      renameSync(staging, root);
    } catch (err) {
      // Put the previous durable state back: a failed persist must not lose it.
      if (hadRoot) renameSync(retired, root);
      throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(retired, { recursive: true, force: true });
  }
}

/** Workspace-relative path rule of memory dirs. */
export function isValidRelativeDir(dir: string): boolean {
  if (dir === "" || dir.startsWith("/") || dir.includes("\\")) return false;
  return dir.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

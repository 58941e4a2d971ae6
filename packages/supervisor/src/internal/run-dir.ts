/**
 * Run directories and durable workspace state. Layout is idempotent and
 * cheap (it runs on every pass, on the start-latency path); both SDK specifiers are symlinks to
 * one realpath so program and child runtime share one SDK module instance. Persisting builds the
 * new durable root in a temp dir and swaps it in, so a failed copy leaves the old state intact.
 */
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
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

/**
 * Creates the layout (keeping existing links) and writes the program file. Its filesystem calls
 * run on libuv's thread pool, not on the engine's event loop.
 */
export async function layoutRunDir(
  dirs: RunDirs,
  program: string,
  sdkPackageDir: string,
): Promise<void> {
  await layoutSkeleton(dirs, sdkPackageDir);
  await writeFile(dirs.programPath, program);
}

/**
 * Everything of the layout except the program file and the artifacts dir (made when the run
 * writes its first artifact). Idempotent.
 */
async function layoutSkeleton(
  dirs: Omit<RunDirs, "artifactsDir">,
  sdkPackageDir: string,
): Promise<void> {
  await mkdir(dirs.workspaceDir, { recursive: true });
  for (const [scope, name] of SDK_SPECIFIERS) {
    const scopeDir = join(dirs.programDir, "node_modules", scope);
    const link = join(scopeDir, name);
    const target = await linkTarget(link);
    if (target === sdkPackageDir) continue;
    // A link to another SDK (laid out by an engine of an earlier version, or one configured with
    // another run-process entry): the program must import the SDK its runtime shares.
    if (target !== null) await rm(link, { recursive: true, force: true });
    await mkdir(scopeDir, { recursive: true });
    await symlink(sdkPackageDir, link, "dir");
  }
}

const SPARE_PREFIX = ".spare-";

/**
 * Run directories laid out ahead of time (workspace, both SDK links), so a run's first pass
 * costs one rename instead of a dozen filesystem calls on the start-latency path. Spares live
 * in `<workDir>/runs/.spare-*` (never a run id: ULIDs have no dot) and are refilled in the
 * background, their directories and links made on libuv's thread pool (a burst of run starts
 * would otherwise spend a large share of the engine's event loop in `mkdir`); leftovers of an
 * earlier engine are adopted once, at the first fill, after re-checking their layout.
 */
export class SpareRunDirs {
  private readonly ready: string[] = [];
  private readonly runsDir: string;
  private readonly sdkPackageDir: string;
  private readonly size: number;
  /** The refill in progress, if any. */
  private filling: Promise<void> | null = null;
  /** The last run directory being laid out by {@link layOut} (they go one after another). */
  private laying: Promise<void> = Promise.resolve();
  private adopted = false;
  private closed = false;

  constructor(workDir: string, sdkPackageDir: string, size: number) {
    this.runsDir = join(workDir, "runs");
    this.sdkPackageDir = sdkPackageDir;
    this.size = size;
  }

  /**
   * Lays out a run's directory and writes its program: a spare renamed into place, or (none
   * ready, or the directory exists from an earlier pass) the layout made or checked off the event
   * loop. Calls complete in the order they were made, so runs start in the order they asked.
   */
  layOut(dirs: RunDirs, program: string): Promise<void> {
    const step = this.laying.then(() => {
      if (this.take(dirs)) writeFileSync(dirs.programPath, program);
      else return layoutRunDir(dirs, program, this.sdkPackageDir);
      return undefined;
    });
    this.laying = step.catch(() => undefined);
    return step;
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

  /** Prepares spares up to the target size, off this turn. */
  fill(): void {
    if (this.filling !== null || this.closed || this.size === 0) return;
    // `refill` never rejects: it reports a failure as `false`.
    this.filling = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.refill())
      .then((complete) => {
        this.filling = null;
        // Taken while the last one was being made: go on (not after a failure, which would
        // only fail again).
        if (complete && this.ready.length < this.size) this.fill();
      });
  }

  /** Resolves once no refill is in progress. */
  async idle(): Promise<void> {
    while (this.filling !== null) await this.filling;
  }

  /**
   * Stops refilling; resolves once the refill in progress (if any) has ended, so nothing is
   * made in the directory afterwards. Prepared spares stay on disk for the next engine.
   */
  close(): Promise<void> {
    this.closed = true;
    return this.idle();
  }

  /** Makes spares until there are enough; false when a filesystem call failed. */
  private async refill(): Promise<boolean> {
    if (this.closed) return false;
    try {
      if (!this.adopted) {
        this.adopted = true;
        await this.adoptLeftovers();
      }
      if (this.ready.length < this.size) await mkdir(this.runsDir, { recursive: true });
      while (!this.closed && this.ready.length < this.size) {
        const path = join(this.runsDir, `${SPARE_PREFIX}${randomBytes(8).toString("hex")}`);
        await this.create(path);
        // Made complete even when closed meanwhile: the next engine adopts it.
        this.ready.push(path);
      }
      return true;
    } catch {
      // Spares are an optimisation: a run lays its directory out itself when none is ready.
      return false;
    }
  }

  private async adoptLeftovers(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.runsDir);
    } catch {
      return; // no runs directory yet
    }
    for (const name of names) {
      if (!name.startsWith(SPARE_PREFIX) || this.ready.length >= this.size) continue;
      const path = join(this.runsDir, name);
      await this.prepare(path);
      this.ready.push(path);
    }
  }

  /** A brand-new spare: plain mkdirs in order and the two links (no recursive stat walks). */
  private async create(path: string): Promise<void> {
    await mkdir(path);
    await mkdir(join(path, "workspace"));
    const modules = join(path, "program", "node_modules");
    await mkdir(join(path, "program"));
    await mkdir(modules);
    for (const [scope, name] of SDK_SPECIFIERS) {
      await mkdir(join(modules, scope));
      await symlink(this.sdkPackageDir, join(modules, scope, name), "dir");
    }
  }

  private prepare(path: string): Promise<void> {
    const programDir = join(path, "program");
    return layoutSkeleton(
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
async function linkTarget(path: string): Promise<string | null> {
  try {
    return await readlink(path);
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

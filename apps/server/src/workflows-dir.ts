/**
 * The server's workflows directory: the scan at boot and, with `PROMENADE_WATCH=1`, hot reload.
 * Every sync is one full scan through the engine (an unchanged entry writes nothing, so an
 * identical save adds no version), and remembers which file deployed which slug, so that:
 * - a file that no longer compiles or validates keeps its last good version deployed and is
 *   listed under `skipped` with its error until a later save fixes it;
 * - a deleted file (or one whose `meta.slug` changed) undeploys the workflow it had deployed;
 *   its runs are kept. Workflows deployed over the API are never undeployed here.
 * Watching uses one recursive `fs.watch` on the directory (a package directory's `skills/` and
 * `AGENTS.md` are part of its workflow) and a debounce; syncs never overlap (a change during a
 * sync runs one more). Invariants: `close()` releases the watcher and the timer; a sync never
 * rejects (a failure is a log line).
 */
import { existsSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { relative, sep } from "node:path";
import type { DirDeployReport, Engine } from "@promenade/engine";
import { isEngineError } from "@promenade/engine";
import type { SkippedWorkflowFile } from "@promenade/server";

/** Quiet period after the last change before a sync starts. */
export const WATCH_DEBOUNCE_MS = 150;

/** What one sync did, for the boot lines and the metrics. */
export interface DirSyncResult {
  deployed: number;
  skipped: number;
}

/** The workflows directory of one server. */
export class WorkflowsDir {
  readonly #engine: Engine;
  readonly #dir: string;
  readonly #bundle: (entryFile: string) => Promise<string>;
  readonly #log: (line: string) => void;
  /** Entry label (as the engine's scan names it) → the slug it deployed last. */
  #sources = new Map<string, string>();
  #skipped: SkippedWorkflowFile[] = [];
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(options: {
    engine: Engine;
    dir: string;
    bundle: (entryFile: string) => Promise<string>;
    log: (line: string) => void;
  }) {
    this.#engine = options.engine;
    this.#dir = options.dir;
    this.#bundle = options.bundle;
    this.#log = options.log;
  }

  /** The files not deployed by the latest sync, each with its error (named inside the dir). */
  get skipped(): readonly SkippedWorkflowFile[] {
    return this.#skipped;
  }

  /**
   * Scan the directory once: deploy what changed, record the files that failed, undeploy the
   * workflows whose file is gone. `quiet`: unchanged entries are not logged.
   */
  async sync(quiet = false): Promise<DirSyncResult> {
    const report = await this.#engine.deployWorkflowsFromDir(this.#dir, {
      bundle: this.#bundle,
      log: quiet
        ? (line) => (line.endsWith(" (unchanged)") ? undefined : this.#log(line))
        : this.#log,
    });
    this.#skipped = report.skipped.map(({ file, reason }) => ({
      file: relative(this.#dir, file) || file,
      error: reason,
    }));
    await this.#undeployGone(report);
    return { deployed: report.deployed.length, skipped: report.skipped.length };
  }

  /** Start watching: a change syncs again after {@link WATCH_DEBOUNCE_MS} of quiet. */
  watch(): void {
    if (this.#closed || this.#watcher !== null) return;
    if (!existsSync(this.#dir)) {
      this.#log(`workflows dir ${this.#dir} does not exist; not watching it`);
      return;
    }
    this.#watcher = watch(this.#dir, { recursive: true }, (_event, name) => {
      if (name !== null && ignored(name)) return;
      this.#schedule();
    });
    this.#watcher.on("error", (error) => {
      this.#log(`watching ${this.#dir} failed: ${error.message}; hot reload is off`);
      this.#stopWatching();
    });
    this.#log(`watching ${this.#dir} for changes`);
  }

  /** Stop watching; a sync under way finishes (its writes fail once the engine is closed). */
  close(): void {
    this.#closed = true;
    this.#stopWatching();
  }

  #stopWatching(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watcher?.close();
    this.#watcher = null;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#run();
    }, WATCH_DEBOUNCE_MS);
  }

  #run(): void {
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.sync(true)
      .then(
        () => undefined,
        (error: unknown) => {
          if (!this.#closed) this.#log(`reloading ${this.#dir} failed: ${describe(error)}`);
        },
      )
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.#run();
        }
      });
  }

  /**
   * Undeploy each slug a file deployed before and no file deploys now. A file that failed keeps
   * its last slug (its last good version stays deployed). Nothing is undeployed while the
   * directory itself is missing or unreadable.
   */
  async #undeployGone(report: DirDeployReport): Promise<void> {
    const unreadable = report.skipped.some(({ file }) => file === this.#dir);
    const next = new Map<string, string>();
    for (const { file, slug } of report.deployed) next.set(file, slug);
    for (const { file } of report.skipped) {
      const before = this.#sources.get(file);
      if (before !== undefined) next.set(file, before);
    }
    if (unreadable || !existsSync(this.#dir)) {
      for (const [file, slug] of this.#sources) if (!next.has(file)) next.set(file, slug);
    }
    const live = new Set(next.values());
    const gone = new Set([...this.#sources.values()].filter((slug) => !live.has(slug)));
    this.#sources = next;
    for (const slug of gone) {
      if (this.#closed) return;
      try {
        await this.#engine.undeploy(slug);
      } catch (error) {
        // Already undeployed (over the API): nothing left to do.
        if (isEngineError(error) && error.code === "NOT_FOUND") continue;
        this.#log(`undeploying "${slug}" failed: ${describe(error)}`);
      }
    }
  }
}

/**
 * Changes the scan never reads: dot files and folders and `node_modules` anywhere (a data dir
 * inside the workflows dir is one), and top-level `_`-prefixed names.
 */
function ignored(name: string): boolean {
  const parts = name.split(sep);
  return (
    parts[0]?.startsWith("_") === true ||
    parts.some((part) => part.startsWith(".") || part === "node_modules")
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The retention sweep: on a timer (unref'd, so it never keeps a process alive) and on demand, it
 * applies each workflow's retention policy — the workflow's `config.retention`, else the engine's
 * — in bounded store batches (`pruneRuns`), removes the deleted runs' directories and artifact
 * files, then deletes that workflow's old versions no remaining run references (never the
 * current one; `pruneVersions`, also in bounded batches) with their materialized skills
 * directories, yields to the event loop between batches so API requests keep being served, and
 * on SQLite returns the freed pages to the file system in small incremental-vacuum steps. A
 * workflow without a policy keeps its runs and its versions. One sweep at a time; `stop()`
 * (engine close) ends it after the batch in progress.
 */
import { readdir, rm } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { PruneCursor, PruneRunsResult, PruneVersionsResult } from "@promenade/store";
import type { WorkflowRow } from "@promenade/workflow/records";
import type { Backend } from "./backend.ts";
import { KEEP_EVERYTHING, parseRetentionPolicy } from "./retention-policy.ts";
import type { RetentionPolicy } from "./retention-policy.ts";

/** What one sweep did. */
export interface RetentionReport {
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
  /** Runs deleted (top-level runs and their children). */
  runsDeleted: number;
  /** Old workflow versions deleted (not current, referenced by no run). */
  versionsDeleted: number;
  /** Store batches (transactions) it took, runs and versions. */
  batches: number;
  /** Free database pages returned to the file system (SQLite). */
  pagesReclaimed: number;
  /**
   * Working directories on this machine whose run no longer exists (another node of a cluster
   * deleted it), removed. Always 0 when the work dir is the data dir.
   */
  workDirsRemoved: number;
  /** Workflows whose policy could not be applied, with why (the sweep went on without them). */
  errors: { workflow: string; message: string }[];
}

/** Counters since the engine opened, for metrics. */
export interface RetentionStats {
  /** The engine-wide policy (`off` when none). */
  policy: string;
  sweeps: number;
  runsDeleted: number;
  versionsDeleted: number;
  lastSweep: RetentionReport | null;
}

/** What the sweep needs from the engine. */
export interface RetentionSweepOptions {
  backend: Backend;
  dataDir: string;
  /** Root of run working directories (the data dir unless set apart). */
  workDir: string;
  policy: RetentionPolicy;
  intervalMs: number;
  batchSize: number;
  now: () => number;
  log: (line: string) => void;
}

/** Run directories checked against the store at once when looking for orphans. */
const ORPHAN_CHECK_BATCH = 100;

/** Pages returned to the file system per incremental-vacuum step. */
const VACUUM_STEP_PAGES = 256;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The engine's retention sweep. */
export class RetentionSweep {
  readonly #o: RetentionSweepOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #current: Promise<RetentionReport> | undefined;
  #stopped = false;
  #sweeps = 0;
  #runsDeleted = 0;
  #versionsDeleted = 0;
  #last: RetentionReport | null = null;

  constructor(options: RetentionSweepOptions) {
    this.#o = options;
  }

  get stats(): RetentionStats {
    return {
      policy: this.#o.policy.text,
      sweeps: this.#sweeps,
      runsDeleted: this.#runsDeleted,
      versionsDeleted: this.#versionsDeleted,
      lastSweep: this.#last,
    };
  }

  /** Sweeps now and then every `intervalMs`, on an unref'd timer. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#arm(0);
  }

  #arm(delayMs: number): void {
    this.#timer = setTimeout(() => {
      void this.sweep().finally(() => {
        if (!this.#stopped) this.#arm(this.#o.intervalMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** One sweep (or the one already running); never rejects. */
  sweep(): Promise<RetentionReport> {
    this.#current ??= this.#sweep().finally(() => {
      this.#current = undefined;
    });
    return this.#current;
  }

  /** Stops the timer; resolves once a sweep in progress has ended after its current batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#current;
  }

  async #sweep(): Promise<RetentionReport> {
    const startedAt = this.#o.now();
    const began = performance.now();
    const report: RetentionReport = {
      startedAt,
      durationMs: 0,
      runsDeleted: 0,
      versionsDeleted: 0,
      batches: 0,
      pagesReclaimed: 0,
      workDirsRemoved: 0,
      errors: [],
    };
    let workflows: WorkflowRow[] = [];
    try {
      // An undeployed workflow's runs stay under the policy too.
      workflows = await this.#o.backend.store.listWorkflows({ includeUndeployed: true });
    } catch (error) {
      report.errors.push({ workflow: "*", message: describe(error) });
    }
    for (const workflow of workflows) {
      if (this.#stopped) break;
      try {
        await this.#sweepWorkflow(workflow, report);
      } catch (error) {
        report.errors.push({ workflow: workflow.slug, message: describe(error) });
        this.#o.log(`retention: sweeping ${workflow.slug} failed: ${describe(error)}`);
      }
    }
    if (!this.#stopped) {
      try {
        await this.#removeOrphanWorkDirs(report);
      } catch (error) {
        report.errors.push({ workflow: "*", message: describe(error) });
      }
    }
    const sync = this.#o.backend.sync;
    if (sync !== null && (report.runsDeleted > 0 || report.versionsDeleted > 0)) {
      try {
        for (;;) {
          if (this.#stopped) break;
          const freed = sync.reclaimSpace(VACUUM_STEP_PAGES);
          report.pagesReclaimed += freed;
          if (freed < VACUUM_STEP_PAGES) break;
          await yieldToLoop();
        }
      } catch (error) {
        report.errors.push({ workflow: "*", message: describe(error) });
      }
    }
    report.durationMs = Math.round(performance.now() - began);
    this.#sweeps += 1;
    this.#last = report;
    if (report.workDirsRemoved > 0) {
      this.#o.log(
        `retention: removed ${String(report.workDirsRemoved)} working director(ies) of runs deleted elsewhere`,
      );
    }
    if (report.runsDeleted > 0 || report.versionsDeleted > 0) {
      this.#o.log(
        `retention: deleted ${String(report.runsDeleted)} run(s) and ${String(report.versionsDeleted)} old version(s) in ${String(report.batches)} batch(es), reclaimed ${String(report.pagesReclaimed)} page(s), ${String(report.durationMs)} ms`,
      );
    }
    return report;
  }

  async #sweepWorkflow(workflow: WorkflowRow, report: RetentionReport): Promise<void> {
    const policy = this.#policyOf(workflow);
    if (policy.maxAgeMs === null && policy.keepLast === null) return;
    const endedBefore = policy.maxAgeMs === null ? undefined : this.#o.now() - policy.maxAgeMs;
    let after: PruneCursor | null = null;
    let deleted = 0;
    do {
      if (this.#stopped) return;
      const result: PruneRunsResult = await this.#o.backend.store.pruneRuns({
        workflowId: workflow.id,
        ...(endedBefore === undefined ? {} : { endedBefore: Math.max(0, endedBefore) }),
        ...(policy.keepLast === null ? {} : { keepLast: policy.keepLast }),
        limit: this.#o.batchSize,
        after,
      });
      report.batches += 1;
      deleted += result.deleted.length;
      report.runsDeleted += result.deleted.length;
      this.#runsDeleted += result.deleted.length;
      await this.#removeFiles(result);
      after = result.next;
      await yieldToLoop();
    } while (after !== null);
    if (deleted > 0) {
      this.#o.log(
        `retention: ${workflow.slug}: deleted ${String(deleted)} run(s) outside "${policy.text}"`,
      );
    }
    await this.#pruneVersions(workflow, report);
  }

  /** Deletes the workflow's old versions no run references, with their skills directories. */
  async #pruneVersions(workflow: WorkflowRow, report: RetentionReport): Promise<void> {
    const versionsDir = join(this.#o.dataDir, "skills", ".versions");
    const removed: number[] = [];
    let more = true;
    while (more && !this.#stopped) {
      const result: PruneVersionsResult = await this.#o.backend.store.pruneVersions({
        workflowId: workflow.id,
        limit: this.#o.batchSize,
      });
      report.batches += 1;
      report.versionsDeleted += result.deleted.length;
      this.#versionsDeleted += result.deleted.length;
      removed.push(...result.deleted.map((version) => version.number));
      await Promise.all(
        result.deleted.map(({ id }) => {
          const dir = join(versionsDir, id);
          return rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
            this.#o.log(`retention: could not remove ${dir}: ${describe(error)}`);
          });
        }),
      );
      more = result.more;
      await yieldToLoop();
    }
    if (removed.length > 0) {
      this.#o.log(
        `retention: ${workflow.slug}: deleted ${String(removed.length)} old version(s) no run references (${listNumbers(removed)})`,
      );
    }
  }

  #policyOf(workflow: WorkflowRow): RetentionPolicy {
    const own = workflow.config["retention"];
    if (own === undefined) return this.#o.policy;
    try {
      return parseRetentionPolicy(own, `config.retention of ${workflow.slug}`);
    } catch (error) {
      // Deploy refuses a bad policy; a row written otherwise is skipped, loudly.
      this.#o.log(`retention: ${describe(error)} (its runs are kept)`);
      return KEEP_EVERYTHING;
    }
  }

  /**
   * With the work dir kept apart (a cluster node's local disk), a run deleted by another node's
   * sweep leaves its working directory here: every run directory whose run is gone from the store
   * is removed. A run's directory is created only after its row, so a missing row means a
   * deleted run. Spares (`.spare-*`) and other dot entries are not runs and are left alone.
   */
  async #removeOrphanWorkDirs(report: RetentionReport): Promise<void> {
    const workRunsDir = join(this.#o.workDir, "runs");
    if (workRunsDir === join(this.#o.dataDir, "runs")) return;
    let entries: string[];
    try {
      entries = await readdir(workRunsDir);
    } catch {
      return; // No run has worked here yet.
    }
    const candidates = entries.filter((name) => !name.startsWith("."));
    for (let start = 0; start < candidates.length; start += ORPHAN_CHECK_BATCH) {
      if (this.#stopped) return;
      const batch = candidates.slice(start, start + ORPHAN_CHECK_BATCH);
      const { store } = this.#o.backend;
      const rows = await Promise.all(batch.map(async (id) => store.getRun(id)));
      const gone = batch.filter((_, index) => rows[index] === null);
      await Promise.all(
        gone.map((id) => {
          const dir = join(workRunsDir, id);
          return rm(dir, { recursive: true, force: true }).then(
            () => {
              report.workDirsRemoved += 1;
            },
            (error: unknown) => {
              this.#o.log(`retention: could not remove ${dir}: ${describe(error)}`);
            },
          );
        }),
      );
      await yieldToLoop();
    }
  }

  /** Removes the run directories and the artifact files inside the data dir (and work dir). */
  async #removeFiles(result: PruneRunsResult): Promise<void> {
    const { dataDir } = this.#o;
    const inside = (path: string): boolean => {
      const rel = relative(dataDir, path);
      return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
    };
    const runsDir = join(dataDir, "runs");
    const deleted = new Set(result.deleted.map((run) => run.id));
    // Artifact files live in their run's directory (removed whole) unless written elsewhere.
    const inRunDir = (path: string): boolean => {
      const rel = relative(runsDir, path);
      return !rel.startsWith("..") && deleted.has(rel.split(sep)[0] ?? "");
    };
    const workRunsDir = join(this.#o.workDir, "runs");
    const targets = [
      ...result.deleted.map((run) => join(runsDir, run.id)),
      // A run's working directory, when it is kept apart from the data dir (on this machine).
      ...(workRunsDir === runsDir ? [] : result.deleted.map((run) => join(workRunsDir, run.id))),
      ...result.artifactPaths.filter((path) => inside(path) && !inRunDir(path)),
    ];
    await Promise.all(
      targets.map((path) =>
        rm(path, { recursive: true, force: true }).catch((error: unknown) => {
          this.#o.log(`retention: could not remove ${path}: ${describe(error)}`);
        }),
      ),
    );
  }
}

/** `v1, v3, v4` — the first ten, then how many more. */
function listNumbers(numbers: readonly number[]): string {
  const shown = numbers.slice(0, 10).map((n) => `v${String(n)}`);
  if (numbers.length > shown.length) shown.push(`${String(numbers.length - shown.length)} more`);
  return shown.join(", ");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `SqliteStore`: the SQLite implementation of `Store`, composed from one object per table, the
 * transactions and the feed. It owns the connection's lifetime and turns every failure into an
 * `EngineError` (SQLite errors become `INTERNAL`). Invariants: every multi-row write is one
 * transaction (or one savepoint inside the caller's); events and `afterCommit` callbacks are
 * published only once their writes are durable; bad arguments are rejected before anything is
 * written. Knows nothing about supervision, scheduling or HTTP. Opened by `openStore` (open.ts).
 */
import type Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { EngineError } from "@promenade/workflow/errors";
import type {
  ArtifactRow,
  EventListener,
  EventRow,
  HumanInputRequestRow,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  RunRow,
  RunUsage,
  WorkflowRow,
  WorkflowVersionRow,
  WorkflowVersionSummary,
} from "@promenade/workflow/records";
import { ArtifactTable } from "./artifacts.ts";
import { CronFireTable } from "./cron-fires.ts";
import { EventTable } from "./events.ts";
import { Feed } from "./feed.ts";
import { InputRequestTable } from "./input-requests.ts";
import { messageOf, validation } from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import type { RunStatus } from "./internal/sdk.ts";
import { createUlidFactory } from "./internal/ulid.ts";
import type { Settings, StoreHooks } from "./open.ts";
import { Retention } from "./retention.ts";
import { RunTable } from "./runs.ts";
import { Transactions, wrapSqliteError } from "./transaction.ts";
import { QuietCheckpoints } from "./internal/checkpoints.ts";
import type {
  CreateArtifactArgs,
  CreateInputRequestArgs,
  CreateRunArgs,
  CronFireArgs,
  EventAppend,
  FireCronArgs,
  InputRequestSettlement,
  ListWorkflowsOptions,
  PruneRunsArgs,
  PruneRunsResult,
  PruneVersionsArgs,
  PruneVersionsResult,
  RunUsageDelta,
  StatusChange,
  Store,
  UpdateRunStatusOptions,
  UpsertWorkflowArgs,
} from "./types.ts";
import { WorkflowTable } from "./workflows.ts";
import { VersionTable } from "./versions.ts";

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #tx: Transactions;
  readonly #feed: Feed;
  readonly #ping: Database.Statement;
  readonly #workflows: WorkflowTable;
  readonly #versions: VersionTable;
  readonly #runs: RunTable;
  readonly #events: EventTable;
  readonly #cronFires: CronFireTable;
  readonly #artifacts: ArtifactTable;
  readonly #inputs: InputRequestTable;
  readonly #retention: Retention;
  /** WAL checkpoints at quiet moments (a file database; `:memory:` has no log). */
  readonly #checkpoints: QuietCheckpoints | null;
  #closed = false;

  constructor(db: Database.Database, settings: Settings, hooks: StoreHooks) {
    // Bound methods: ports are often passed around as picked or destructured functions
    // (`const { getRun } = store`), and private fields need the real instance as `this`.
    for (const key of Object.getOwnPropertyNames(SqliteStore.prototype)) {
      const value: unknown = Reflect.get(this, key);
      if (key !== "constructor" && typeof value === "function") {
        Object.defineProperty(this, key, {
          value: value.bind(this),
          configurable: true,
          writable: true,
        });
      }
    }
    this.#db = db;
    const { logQuery } = hooks;
    const orm =
      logQuery === undefined
        ? drizzle({ client: db })
        : drizzle({ client: db, logger: { logQuery: (query, params) => logQuery(query, params) } });
    // The feed routes a run's events by its workflow, read (once per run) from the runs table.
    this.#feed = new Feed((runId) => this.#runs.route(runId), settings.onListenerError);
    this.#checkpoints = db.memory ? null : new QuietCheckpoints(db);
    // Any rollback may have undone an upsert: the workflow caches go with it.
    this.#tx = new Transactions(
      db,
      this.#feed,
      () => this.#workflows.dropCaches(),
      () => this.#checkpoints?.wrote(),
    );
    const context: TableContext = {
      db,
      orm,
      settings,
      newId: createUlidFactory(settings.now),
      tx: this.#tx,
      feed: this.#feed,
      logQuery,
    };
    this.#ping = db.prepare("SELECT 1");
    this.#versions = new VersionTable(context);
    this.#workflows = new WorkflowTable(context, this.#versions);
    this.#events = new EventTable(context);
    this.#runs = new RunTable(context, this.#workflows, this.#versions, this.#events, (runId) =>
      this.#inputs.cancelPending(runId),
    );
    this.#inputs = new InputRequestTable(context, this.#events, (runId) =>
      this.#runs.exists(runId),
    );
    this.#cronFires = new CronFireTable(context, this.#workflows, this.#runs);
    this.#artifacts = new ArtifactTable(context);
    this.#retention = new Retention(context);
  }

  // ---------------------------------------------------------------- lifecycle

  transaction<T>(fn: () => T): T {
    this.#assertOpen();
    return this.#tx.run(fn);
  }

  afterCommit(fn: () => void): void {
    this.#assertOpen();
    this.#tx.afterCommit(fn);
  }

  close(): void {
    if (this.#closed) return;
    if (this.#tx.open) {
      throw new EngineError(
        "INTERNAL",
        "close() was called inside a store transaction.",
        "Close the store after the transaction callback returns.",
      );
    }
    this.#closed = true;
    this.#checkpoints?.stop();
    this.#db.close();
  }

  ping(): void {
    this.#guard("ping", () => {
      this.#ping.get();
    });
  }

  subscribe(listener: EventListener): () => void {
    this.#assertOpen();
    if (typeof listener !== "function")
      throw validation("subscribe(listener): listener must be a function.");
    return this.#feed.subscribe(listener);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new EngineError(
        "INTERNAL",
        "The store is closed.",
        "Open a new store (or engine) to keep working with this data dir.",
      );
    }
  }

  #guard<T>(operation: string, fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (error) {
      throw wrapSqliteError(error, operation);
    }
  }

  // ---------------------------------------------------------------- workflows

  getWorkflow(slug: string): WorkflowRow | null {
    return this.#guard("getWorkflow", () => this.#workflows.get(slug));
  }

  getWorkflowById(id: string): WorkflowRow | null {
    return this.#guard("getWorkflowById", () => this.#workflows.getById(id));
  }

  listWorkflows(options?: ListWorkflowsOptions): WorkflowRow[] {
    return this.#guard("listWorkflows", () => this.#workflows.list(options));
  }

  undeployWorkflow(slug: string): WorkflowRow | null {
    this.#workflows.dropCaches();
    return this.#guard("undeployWorkflow", () => this.#workflows.undeploy(slug));
  }

  listWorkflowVersions(workflowId: string): WorkflowVersionSummary[] {
    return this.#guard("listWorkflowVersions", () => this.#versions.list(workflowId));
  }

  getWorkflowVersion(workflowId: string, version: number): WorkflowVersionRow | null {
    return this.#guard("getWorkflowVersion", () => this.#versions.get(workflowId, version));
  }

  upsertWorkflow(args: UpsertWorkflowArgs): WorkflowRow {
    this.#workflows.dropCaches();
    return this.#guard("upsertWorkflow", () => this.#workflows.upsert(args));
  }

  // ---------------------------------------------------------------- runs

  getRun(id: string): RunRow | null {
    return this.#guard("getRun", () => this.#runs.get(id));
  }

  listRuns(filter?: ListRunsFilter): RunRow[] {
    return this.#guard("listRuns", () => this.#runs.list(filter ?? {}));
  }

  createRun(args: CreateRunArgs): { run: RunRow; created: boolean } {
    return this.#guard("createRun", () => this.#runs.create(args));
  }

  commitStatus(runId: string, change: StatusChange): RunRow | null {
    return this.#guard("commitStatus", () => this.#runs.commitStatus(runId, change));
  }

  updateRunStatus(id: string, status: RunStatus, options?: UpdateRunStatusOptions): boolean {
    return this.#guard("updateRunStatus", () => this.#runs.updateStatus(id, status, options));
  }

  incrementRestarts(id: string): number {
    return this.#guard("incrementRestarts", () => this.#runs.incrementRestarts(id));
  }

  addActiveMs(id: string, ms: number): number {
    return this.#guard("addActiveMs", () => this.#runs.addActiveMs(id, ms));
  }

  scheduleRetry(id: string, at: number): number {
    return this.#guard("scheduleRetry", () => this.#runs.scheduleRetry(id, at));
  }

  clearRetry(id: string): void {
    this.#guard("clearRetry", () => this.#runs.clearRetry(id));
  }

  addRunUsage(id: string, usage: RunUsageDelta): RunUsage {
    return this.#guard("addRunUsage", () => this.#runs.addUsage(id, usage));
  }

  getRunUsage(id: string): RunUsage {
    return this.#guard("getRunUsage", () => this.#runs.usage(id));
  }

  // ---------------------------------------------------------------- events

  appendEvents(runId: string, rows: readonly EventAppend[]): void {
    this.#guard("appendEvents", () => {
      this.#events.append(runId, rows);
    });
  }

  listEvents(runId: string, options?: ListEventsOptions): EventRow[] {
    return this.#guard("listEvents", () => this.#events.list(runId, options));
  }

  maxCursor(runId: string): number {
    return this.#guard("maxCursor", () => this.#events.maxCursor(runId));
  }

  // ---------------------------------------------------------------- cron fires

  fireCron(args: FireCronArgs): RunRow | null {
    return this.#guard("fireCron", () => this.#cronFires.fire(args));
  }

  recordCronFire(args: CronFireArgs): void {
    this.#guard("recordCronFire", () => {
      this.#cronFires.record(args);
    });
  }

  lastCronFire(workflowId: string, triggerIndex: number): number | null {
    return this.#guard("lastCronFire", () => this.#cronFires.last(workflowId, triggerIndex));
  }

  // ---------------------------------------------------------------- artifacts

  createArtifact(args: CreateArtifactArgs): ArtifactRow {
    return this.#guard("createArtifact", () => this.#artifacts.create(args));
  }

  listArtifacts(runId: string): ArtifactRow[] {
    return this.#guard("listArtifacts", () => this.#artifacts.list(runId));
  }

  // ---------------------------------------------------------------- human-input requests

  getInputRequest(runId: string, key: string): HumanInputRequestRow | null {
    return this.#guard("getInputRequest", () => this.#inputs.get(runId, key));
  }

  listInputRequests(filter?: ListInputRequestsFilter): HumanInputRequestRow[] {
    return this.#guard("listInputRequests", () => this.#inputs.list(filter));
  }

  createInputRequest(
    runId: string,
    args: CreateInputRequestArgs,
  ): { request: HumanInputRequestRow; created: boolean } {
    return this.#guard("createInputRequest", () => this.#inputs.create(runId, args));
  }

  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): HumanInputRequestRow | null {
    return this.#guard("settleInputRequest", () => this.#inputs.settle(runId, key, settlement));
  }

  // ---------------------------------------------------------------- retention and backups

  pruneRuns(args: PruneRunsArgs): PruneRunsResult {
    return this.#guard("pruneRuns", () => this.#retention.prune(args));
  }

  pruneVersions(args: PruneVersionsArgs): PruneVersionsResult {
    return this.#guard("pruneVersions", () => this.#versions.prune(args));
  }

  reclaimSpace(pages: number): number {
    return this.#guard("reclaimSpace", () => {
      if (!Number.isSafeInteger(pages) || pages < 1) {
        throw validation(`reclaimSpace: pages must be an integer ≥ 1, got ${String(pages)}.`);
      }
      return this.#retention.reclaim(pages);
    });
  }

  async backup(file: string): Promise<void> {
    this.#assertOpen();
    if (typeof file !== "string" || file.length === 0) {
      throw validation("backup(file): file must be a non-empty path.");
    }
    if (this.#tx.open) {
      throw new EngineError(
        "INTERNAL",
        "backup() was called inside a store transaction.",
        "Take the backup after the transaction callback returns.",
      );
    }
    try {
      await this.#db.backup(file);
    } catch (error) {
      throw new EngineError(
        "INTERNAL",
        `Backup to ${file} failed: ${messageOf(error)}`,
        "Check that the target's directory exists and is writable, and that the disk has room.",
        { cause: error },
      );
    }
  }
}

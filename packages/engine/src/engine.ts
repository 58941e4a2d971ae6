/**
 * The `Engine` facade: argument checks, the open/closed/started state, and the two faces of every
 * operation. `new Engine({ dataDir })` opens SQLite and keeps the synchronous Boardwalk methods
 * (`deployWorkflow`, `startRun`, `tick`, `start`, `ping`, `engine.store`); `Engine.open(…)` opens
 * SQLite or PostgreSQL and every operation also has a promise-returning twin (`deploy`,
 * `createRun`, `tickAsync`, `startAsync`, `pingAsync`, `engine.storeAsync`) that works on both.
 * The operations themselves live in `core.ts`, the stores in `backend.ts`.
 *
 * Invariants: after `close()` every method throws (sync) or rejects (async) `INTERNAL`
 * "…closed…"; promise-returning methods never throw synchronously; a synchronous method on an
 * engine over PostgreSQL throws `UNSUPPORTED` naming its promise-returning twin.
 */
import { mkdirSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import type { PublishedEvent, RunRow, WorkflowRow } from "@promenade/workflow/records";
import { EngineError } from "@promenade/workflow/errors";
import { andThen, isPromiseLike } from "@promenade/workflow/records";
import type {
  Awaitable,
  HumanInputRequestRow,
  ListInputRequestsFilter,
} from "@promenade/workflow/records";
import { authorizeMcp } from "./authorize.ts";
import type { AuthorizeMcpServerOptions } from "./authorize.ts";
import { openPostgres, openSqlite } from "./backend.ts";
import type { Backend } from "./backend.ts";
import type { ClusterHealth } from "./cluster.ts";
import { EngineCore } from "./core.ts";
import type { DeployArgs } from "./deploy.ts";
import { isPlainObject } from "./internal/json.ts";
import { resolveEngineOptions } from "./options.ts";
import type { EngineOptions, ResolvedEngineOptions } from "./options.ts";
import { asyncReader, syncReader, unsupported, unsupportedReader } from "./readers.ts";
import { backupDatabase } from "./backup.ts";
import type { RetentionReport, RetentionStats } from "./retention-sweep.ts";
import type { AsyncStoreReader, StoreReader } from "./readers.ts";
import { checkStartRun } from "./start-run.ts";
import type { StartRunOptions } from "./start-run.ts";
import { deployFromDir } from "./workflows-dir.ts";
import type { DirDeployOptions, DirDeployReport } from "./workflows-dir.ts";

/** Options of `Engine.open(options)`: the engine options plus where the database is. */
export interface EngineOpenOptions extends EngineOptions {
  /**
   * `postgres://user:password@host:5432/database` (or `postgresql://`) keeps runs, events and
   * workflows in PostgreSQL. Absent or `""`: SQLite at `<dataDir>/promenade.db`. Run
   * directories, skills and MCP tokens stay in `dataDir` either way.
   */
  databaseUrl?: string;
}

/** `runOnce` arguments: a deploy plus the run's input. */
export interface RunOnceArgs extends DeployArgs {
  input?: StartRunOptions["input"];
}

/** Options of `closeGracefully`. */
export interface CloseGracefullyOptions {
  /** SIGKILL run processes still alive this long after the SIGTERM. Default `5000`. */
  childGraceMs?: number;
}

/** What the boot recovery sweep did. */
export interface StartReport {
  /** Runs supervised again, then the `queued` runs left to the dispatch gate. */
  resumed: string[];
  /** Runs left `cancelling` by a dead engine, now `cancelled`. */
  cancelled: string[];
}

/** Which database an engine uses. */
export interface EngineDatabase {
  kind: "sqlite" | "postgres";
  /** `<dataDir>/promenade.db`, or `PostgreSQL (host:port/database)` (never the password). */
  label: string;
}

const CLOSED_MESSAGE = "This engine has been closed.";

/**
 * The embeddable Promenade engine. `new Engine({ dataDir })` opens (and migrates) the SQLite
 * database and builds the supervisor and scheduler; it starts no loop and recovers nothing until
 * `start()`. `await Engine.open({ dataDir, databaseUrl })` does the same on either database.
 *
 * @throws EngineError `VALIDATION` for bad options; `INTERNAL` when the database cannot be opened.
 */
export class Engine {
  /** A store `Engine.open` opened, handed to the constructor it calls next. */
  static #opened: Backend | undefined;

  readonly #options: ResolvedEngineOptions;
  readonly #core: EngineCore;
  readonly #reader: StoreReader;
  readonly #asyncReader: AsyncStoreReader;
  /** Reject functions of every promise handed out and not yet settled (rejected at close). */
  readonly #pending = new Set<(error: EngineError) => void>();
  /** Aborted at close: ends interactive authorizations still waiting for a browser. */
  readonly #closing = new AbortController();
  #closed = false;
  #started = false;
  #shutdown: Promise<void> | undefined;

  /** Open the data dir on SQLite. See {@link EngineOptions} for every option and its default. */
  constructor(options: EngineOptions) {
    const opened = Engine.#opened;
    Engine.#opened = undefined;
    if (opened === undefined && isPlainObject(options) && "databaseUrl" in options) {
      throw new EngineError(
        "VALIDATION",
        'new Engine() opens SQLite in the data dir and takes no "databaseUrl": open a PostgreSQL engine with await Engine.open({ dataDir, databaseUrl }).',
        "Leave databaseUrl out for SQLite.",
      );
    }
    const resolved = resolveEngineOptions(options);
    if (resolved.cluster !== null && opened === undefined) {
      throw new EngineError(
        "VALIDATION",
        'Engine option "cluster" needs PostgreSQL: the nodes of a cluster share one PostgreSQL database, and SQLite is one process\'s file.',
        "Open the engine with await Engine.open({ dataDir, databaseUrl: 'postgres://…', cluster: {} }), or leave cluster out.",
      );
    }
    this.#options = resolved;
    for (const [name, dir] of [
      ["dataDir", resolved.dataDir],
      ["workDir", resolved.workDir],
    ] as const) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        throw new EngineError(
          "VALIDATION",
          `Engine option "${name}" (${dir}) cannot be created: ${describe(error)}`,
          `Point ${name} at a writable directory.`,
          { cause: error },
        );
      }
    }
    const backend =
      opened ??
      openSqlite({
        dataDir: resolved.dataDir,
        now: () => resolved.clock.now(),
        log: resolved.log,
      });
    try {
      this.#core = new EngineCore(resolved, backend);
    } catch (error) {
      void Promise.resolve(backend.store.close()).catch(() => undefined);
      throw error;
    }
    const assertOpen = (): void => this.#assertOpen();
    this.#reader =
      backend.sync === null ? unsupportedReader(assertOpen) : syncReader(backend.sync, assertOpen);
    this.#asyncReader = asyncReader(backend.store, assertOpen);
  }

  /**
   * Open an engine on SQLite (no `databaseUrl`) or PostgreSQL (`postgres://…`). Connects and
   * migrates before anything is created in `dataDir`.
   * @throws (rejects) EngineError `VALIDATION` for bad options or a malformed URL; `INTERNAL`
   * naming the problem and the fix when the database cannot be reached or refuses the login.
   */
  static async open(options: EngineOpenOptions): Promise<Engine> {
    if (!isPlainObject(options)) return new Engine(options);
    const { databaseUrl, ...rest } = options;
    if (databaseUrl === undefined || databaseUrl === "") return new Engine(rest);
    if (typeof databaseUrl !== "string") {
      throw new EngineError(
        "VALIDATION",
        'Engine option "databaseUrl" must be a string.',
        "Pass postgres://user:password@host:5432/database, or leave it out for SQLite.",
      );
    }
    const resolved = resolveEngineOptions(rest);
    const backend = await openPostgres(databaseUrl, {
      dataDir: resolved.dataDir,
      now: () => resolved.clock.now(),
      log: resolved.log,
      cluster: resolved.cluster,
    });
    Engine.#opened = backend;
    try {
      return new Engine(rest);
    } catch (error) {
      Engine.#opened = undefined;
      await Promise.resolve(backend.store.close()).catch(() => undefined);
      throw error;
    }
  }

  /** Which database this engine uses. */
  get database(): EngineDatabase {
    return { kind: this.#core.backend.kind, label: this.#core.backend.label };
  }

  /**
   * This node of a cluster (engine option `cluster`): its id, the runs it holds and the age of its
   * last heartbeat; `null` outside a cluster.
   */
  get cluster(): ClusterHealth | null {
    return this.#core.cluster?.health() ?? null;
  }

  /**
   * In a cluster: look for queued runs (and requests for the runs this node holds) now, instead
   * of at the next poll; call it when another node signals new work. A no-op outside a cluster.
   */
  poke(): void {
    if (this.#closed) return;
    this.#core.cluster?.poke();
  }

  /**
   * In a cluster, the first half of a graceful stop: claim nothing more and wait until the runs
   * this node holds ended, at most `graceMs` (default 30000). Resolves with the number of runs
   * still held; `close()` then releases them to another node at once. Outside a cluster it
   * resolves `0` at once.
   */
  async drain(options: { graceMs?: number } = {}): Promise<number> {
    this.#assertOpen();
    const graceMs = options.graceMs ?? 30_000;
    if (typeof graceMs !== "number" || !Number.isSafeInteger(graceMs) || graceMs < 0) {
      throw new EngineError("VALIDATION", "drain: graceMs must be an integer ≥ 0.");
    }
    return (await this.#core.cluster?.drain(graceMs)) ?? 0;
  }

  /**
   * Server-mode boot: the recovery sweep, then the tick loop (the first tick runs inside
   * `start()`). A second call returns `{ resumed: [], cancelled: [] }`. SQLite only.
   * @throws EngineError `INTERNAL` after `close()`; `UNSUPPORTED` on PostgreSQL (use `startAsync`).
   */
  start(): StartReport {
    this.#assertOpen();
    this.#requireSync("engine.start()", "await engine.startAsync()");
    if (this.#started) return { resumed: [], cancelled: [] };
    this.#started = true;
    const recovered = this.#now(this.#core.recover(), "start");
    this.#core.startLoops();
    return recovered;
  }

  /**
   * `start()` on either database: the recovery sweep, then the tick loop (and, on PostgreSQL, a
   * database watch that resumes interrupted runs after an outage). Rejects when the sweep fails;
   * it may then be called again.
   */
  async startAsync(): Promise<StartReport> {
    this.#assertOpen();
    if (this.#started) return { resumed: [], cancelled: [] };
    this.#started = true;
    let recovered: StartReport;
    try {
      recovered = await this.#core.recover();
    } catch (error) {
      this.#started = false;
      throw error;
    }
    this.#assertOpen();
    this.#core.startLoops();
    return recovered;
  }

  /**
   * Stop the loop, SIGTERM every run process (their runs stay non-terminal for the next boot's
   * sweep), reject every pending `waitForRun`/`cancelRun`, close the database. Idempotent.
   */
  close(): void {
    this.#closeWith(undefined);
  }

  /** `close()`, then wait until every run process has exited (SIGKILL after `childGraceMs`). */
  async closeGracefully(options: CloseGracefullyOptions = {}): Promise<void> {
    const graceMs = options.childGraceMs ?? 5000;
    if (typeof graceMs !== "number" || !Number.isSafeInteger(graceMs) || graceMs < 0) {
      throw new EngineError("VALIDATION", "closeGracefully: childGraceMs must be an integer ≥ 0.");
    }
    this.#closeWith(graceMs);
    await this.#shutdown;
  }

  /**
   * Receive every committed event of every run — with its run's `workflowId` and `workflowSlug`
   * — right after its commit, per run in cursor order. A throwing listener is logged and never
   * affects the run. Returns the unsubscribe function.
   */
  onEvent(listener: (row: PublishedEvent) => void): () => void {
    this.#assertOpen();
    if (typeof listener !== "function") {
      throw new EngineError("VALIDATION", "onEvent expects a function (row: EventRow) => void.");
    }
    return this.#core.subscribe(listener);
  }

  /**
   * Validate and store a workflow. Same slug ⇒ same id; program, config and skills replaced. The
   * program is never executed. SQLite only (use `deploy` on either database).
   * @throws EngineError `VALIDATION` (meta, manifest, cron, config, skill names), `INTERNAL`
   * after close, `UNSUPPORTED` on PostgreSQL.
   */
  deployWorkflow(args: DeployArgs): WorkflowRow {
    this.#assertOpen();
    this.#requireSync("engine.deployWorkflow(args)", "await engine.deploy(args)");
    return this.#now(this.#core.deploy(args), "deployWorkflow");
  }

  /** `deployWorkflow` on either database: resolves with the stored row. */
  deploy(args: DeployArgs): Promise<WorkflowRow> {
    return this.#promise(() => this.#core.deploy(args));
  }

  /**
   * Undeploy the workflow deployed under `slug` and answer its row (`undeployedAt` set). It is no
   * longer listed, new runs of it fail `NOT_FOUND`, its crons stop firing and its webhooks answer
   * not found; its runs, events, versions and artifacts are kept and readable, and runs already
   * started finish on their version. Deploying the slug again re-activates it (same id, versions
   * continue). SQLite only (use `undeploy` on either database).
   * @throws EngineError `NOT_FOUND` (no workflow deployed under `slug`), `VALIDATION`,
   * `INTERNAL` after close, `UNSUPPORTED` on PostgreSQL.
   */
  undeployWorkflow(slug: string): WorkflowRow {
    this.#assertOpen();
    this.#requireSync(
      `engine.undeployWorkflow("${String(slug)}")`,
      `await engine.undeploy("${String(slug)}")`,
    );
    return this.#now(this.#core.undeploy(slug), "undeployWorkflow");
  }

  /** `undeployWorkflow` on either database: resolves with the undeployed row. */
  undeploy(slug: string): Promise<WorkflowRow> {
    return this.#promise(() => this.#core.undeploy(slug));
  }

  /**
   * Deploy every workflow at the top level of `dir`. Never rejects for one bad entry: it lands
   * in `skipped` and is logged. Works on either database.
   */
  async deployWorkflowsFromDir(
    dir: string,
    options: DirDeployOptions = {},
  ): Promise<DirDeployReport> {
    this.#assertOpen();
    return deployFromDir(resolvePath(dir), options, {
      deploy: (args) => (this.#assertOpen(), this.#core.deploy(args)),
      deployedPrograms: () => (this.#assertOpen(), this.#core.deployedPrograms()),
      current: (slug) => (this.#assertOpen(), this.#core.deployed(slug)),
      log: options.log ?? this.#options.log,
    });
  }

  /**
   * Create a `queued` run of a deployed workflow and offer it to the concurrency gate at once.
   * Returns the row as created; read `engine.store` for the live status. SQLite only (use
   * `createRun` on either database).
   * @throws EngineError `NOT_FOUND` (slug not deployed), `VALIDATION` (non-JSON input, bad
   * options), `CONFLICT` (idempotency key used by another workflow), `INTERNAL` after close,
   * `UNSUPPORTED` on PostgreSQL.
   */
  startRun(slug: string, options: StartRunOptions = {}): RunRow {
    this.#assertOpen();
    this.#requireSync(
      `engine.startRun("${String(slug)}", …)`,
      `await engine.createRun("${String(slug)}", …)`,
    );
    return this.#now(this.#core.startRun(checkStartRun(slug, options)), "startRun");
  }

  /** `startRun` on either database: resolves with the row as created. */
  createRun(slug: string, options: StartRunOptions = {}): Promise<RunRow> {
    return this.#promise(() => this.#core.startRun(checkStartRun(slug, options)));
  }

  /**
   * `createRun`, resolving with whether this call created the run: `created: false` when
   * `options.requestKey` (or `idempotencyKey`) found the run an earlier request created — it is
   * returned as it is now. A server answers a client's retry with it (200 instead of 201).
   * @throws EngineError `CONFLICT` when the request key is bound to a run of a different request,
   * or when `options.delivery` was already received.
   */
  createRunOnce(
    slug: string,
    options: StartRunOptions = {},
  ): Promise<{ run: RunRow; created: boolean }> {
    return this.#promise(() => this.#core.startRunOnce(checkStartRun(slug, options)));
  }

  /**
   * One scheduler pass: fire due crons, then offer queued runs to the gate. Works without
   * `start()`. SQLite only (use `tickAsync` on either database).
   */
  tick(): void {
    this.#assertOpen();
    this.#requireSync("engine.tick()", "await engine.tickAsync()");
    this.#now(this.#core.tick(), "tick");
  }

  /** `tick()` on either database: resolves once the pass is complete. */
  tickAsync(): Promise<void> {
    return this.#promise(() => this.#core.tick());
  }

  /**
   * Resolve with the run's terminal row. Never rejects because the run failed; rejects
   * `NOT_FOUND` for an unknown id and `INTERNAL` when the engine closes first. A queued run is
   * offered to the gate; an orphan left by a dead engine is recovered here.
   */
  waitForRun(runId: string): Promise<RunRow> {
    return this.#track(() => this.#core.waitForRun(runId));
  }

  /**
   * Cancel a run; resolves once it is terminal. A terminal run is left as is. On SQLite the
   * status change happens before this returns.
   * @throws (rejects) EngineError `NOT_FOUND` for an unknown id, `INTERNAL` after close.
   */
  cancelRun(runId: string): Promise<void> {
    return this.#track(() => this.#core.cancelRun(runId));
  }

  /**
   * Embedded one-shot: deploy → start → `waitForRun`. No loop, no sweep. Resolves with the
   * terminal row; never rejects for run failure. Works on either database.
   */
  runOnce(args: RunOnceArgs): Promise<RunRow> {
    return this.#promise(() => {
      const { input, ...deploy } = args;
      return andThen(this.#core.deploy(deploy), (workflow) =>
        andThen(
          this.#core.startRun(checkStartRun(workflow.slug, input === undefined ? {} : { input })),
          (run) => this.waitForRun(run.id),
        ),
      );
    });
  }

  /**
   * Human-input requests, newest first (creation time, then insertion order): `runId` and
   * `statuses` combine with AND, `statuses: []` lists nothing, no filter lists every request.
   * SQLite only (use `listInputRequestsAsync` on either database).
   * @throws EngineError `VALIDATION` for a bad filter, `INTERNAL` after close, `UNSUPPORTED` on
   * PostgreSQL.
   */
  listInputRequests(filter?: ListInputRequestsFilter): HumanInputRequestRow[] {
    this.#assertOpen();
    this.#requireSync("engine.listInputRequests(…)", "await engine.listInputRequestsAsync(…)");
    return this.#now(this.#core.listInputRequests(filter), "listInputRequests");
  }

  /** `listInputRequests` on either database. */
  listInputRequestsAsync(filter?: ListInputRequestsFilter): Promise<HumanInputRequestRow[]> {
    return this.#promise(() => this.#core.listInputRequests(filter));
  }

  /**
   * Answer the run's pending human-input request `key` with `value`; returns the resolved row
   * (the answer normalized, `respondedBy` = `opts.respondedBy ?? null`) and wakes the waiting
   * program. The first answer wins. Synchronous: a rejected answer throws. SQLite only (use
   * `respondToInputAsync` on either database).
   * @throws EngineError `NOT_FOUND` ("Unknown run"; "No pending human-input request" — also for
   * a second answer, a timed-out or a cancelled request), `VALIDATION` (the answer does not fit
   * the gate's form; the request stays pending), `CONFLICT` ("already answered": another answer
   * won the race), `INTERNAL` after close, `UNSUPPORTED` on PostgreSQL.
   */
  respondToInput(
    runId: string,
    key: string,
    value: unknown,
    opts: { respondedBy?: string } = {},
  ): HumanInputRequestRow {
    this.#assertOpen();
    this.#requireSync(
      `engine.respondToInput("${String(runId)}", "${String(key)}", …)`,
      `await engine.respondToInputAsync("${String(runId)}", "${String(key)}", …)`,
    );
    return this.#now(
      this.#core.respondToInput(runId, key, value, respondOptions(opts)),
      "respondToInput",
    );
  }

  /** `respondToInput` on either database: rejects with the same errors. */
  respondToInputAsync(
    runId: string,
    key: string,
    value: unknown,
    opts: { respondedBy?: string } = {},
  ): Promise<HumanInputRequestRow> {
    return this.#promise(() => this.#core.respondToInput(runId, key, value, respondOptions(opts)));
  }

  /**
   * One-time interactive OAuth grant for an HTTP MCP server. Tokens land in
   * `<dataDir>/mcp_tokens.json` (mode 0600). The engine never opens a browser: it hands the
   * authorization URL to `options.onAuthorizationUrl`.
   */
  async authorizeMcpServer(url: string, options: AuthorizeMcpServerOptions): Promise<void> {
    this.#assertOpen();
    await this.#track(() =>
      authorizeMcp(
        url,
        options,
        join(this.#options.dataDir, "mcp_tokens.json"),
        this.#closing.signal,
      ),
    );
  }

  /**
   * Read-only synchronous view of the store. Its methods throw `INTERNAL` after `close()`, and
   * `UNSUPPORTED` on PostgreSQL (use `engine.storeAsync`).
   */
  get store(): StoreReader {
    return this.#reader;
  }

  /** Read-only view of the store with promises, on either database. Rejects after `close()`. */
  get storeAsync(): AsyncStoreReader {
    return this.#asyncReader;
  }

  /** `<dataDir>/runs/<runId>/artifacts` (absolute). Path computation only, no I/O. */
  artifactsDir(runId: string): string {
    this.#assertOpen();
    if (
      typeof runId !== "string" ||
      runId.length === 0 ||
      /[/\\]/.test(runId) ||
      runId === "." ||
      runId === ".."
    ) {
      throw new EngineError("VALIDATION", `artifactsDir: "${String(runId)}" is not a run id.`);
    }
    return join(this.#options.dataDir, "runs", runId, "artifacts");
  }

  /**
   * One trivial database read. SQLite only (use `pingAsync` on either database).
   * @throws EngineError `INTERNAL` after close or when unreadable, `UNSUPPORTED` on PostgreSQL.
   */
  ping(): void {
    this.#assertOpen();
    this.#requireSync("engine.ping()", "await engine.pingAsync()");
    this.#now(this.#core.ping(), "ping");
  }

  /**
   * Applies the retention policy now (the same sweep the started engine runs on its timer): the
   * terminal runs outside their workflow's policy are deleted in bounded batches with every row
   * and file of theirs. Resolves with what it did; joins a sweep already running.
   */
  sweepRetention(): Promise<RetentionReport> {
    return this.#track(() => this.#core.retention.sweep());
  }

  /** Retention counters since the engine opened (sweeps, runs deleted, the last sweep). */
  get retentionStats(): RetentionStats {
    this.#assertOpen();
    return this.#core.retention.stats;
  }

  /**
   * A consistent copy of the SQLite database at `file` (which must not exist), taken online
   * while runs keep writing: it holds every event committed before the promise resolves. A
   * server started on a data dir holding the copy as `promenade.db` recovers the runs that were
   * in flight. Resolves with the absolute path.
   * @throws (rejects) EngineError `CONFLICT` when `file` exists, `VALIDATION` for a missing
   * directory, `UNSUPPORTED` on PostgreSQL (use `pg_dump`), `INTERNAL` when the copy fails.
   */
  backup(file: string): Promise<string> {
    return this.#track(() => backupDatabase(this.#core.backend, file));
  }

  /** `ping()` on either database: rejects `INTERNAL` while the database cannot be reached. */
  pingAsync(): Promise<void> {
    return this.#promise(() => this.#core.ping());
  }

  #assertOpen(): void {
    if (this.#closed) throw new EngineError("INTERNAL", CLOSED_MESSAGE);
  }

  #requireSync(call: string, instead: string): void {
    if (!this.#core.synchronous) throw unsupported(call, instead);
  }

  /** The value of an operation that must have completed synchronously (SQLite). */
  #now<T>(value: Awaitable<T>, method: string): T {
    if (!isPromiseLike(value)) return value;
    value.then(undefined, () => undefined);
    throw new EngineError(
      "INTERNAL",
      `engine.${method}() needed a synchronous answer from the database and got a promise.`,
    );
  }

  /** A promise of `run()`, rejecting (never throwing) — `INTERNAL` "closed" after close. */
  #promise<T>(run: () => Awaitable<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#assertOpen();
      resolve(run());
    });
  }

  /**
   * Run `start` and hand out its promise, rejecting instead of throwing, and rejecting with
   * `INTERNAL` "closed" if the engine closes before it settles.
   */
  #track<T>(start: () => Awaitable<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(new EngineError("INTERNAL", CLOSED_MESSAGE));
        return;
      }
      const onClose = (error: EngineError): void => reject(error);
      this.#pending.add(onClose);
      let inner: Awaitable<T>;
      try {
        inner = start();
      } catch (error) {
        this.#pending.delete(onClose);
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      Promise.resolve(inner).then(
        (value) => {
          this.#pending.delete(onClose);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(onClose);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  #closeWith(childGraceMs: number | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#shutdown = this.#core.close(childGraceMs);
    const closed = new EngineError("INTERNAL", CLOSED_MESSAGE);
    for (const reject of this.#pending) reject(closed);
    this.#pending.clear();
  }
}

function respondOptions(opts: unknown): { respondedBy?: string } {
  if (!isPlainObject(opts)) {
    throw new EngineError(
      "VALIDATION",
      "respondToInput: opts must be an object ({ respondedBy? }).",
    );
  }
  const respondedBy = opts.respondedBy;
  if (respondedBy === undefined) return {};
  if (typeof respondedBy !== "string" || respondedBy === "") {
    throw new EngineError(
      "VALIDATION",
      "respondToInput: opts.respondedBy must be a non-empty string when given.",
    );
  }
  return { respondedBy };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

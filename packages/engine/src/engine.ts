/**
 * The `Engine` facade (spec 02 §3, §7.1, §8): the one place store, supervisor, scheduler, agent
 * and MCP meet. Owns argument validation, wiring and the closed/started state; every lifecycle
 * decision lives in the supervisor, every "when" in the scheduler, every SQL statement in the
 * store. Invariants: after `close()` every method throws (sync) or rejects (async) `INTERNAL`
 * "…closed…"; promise-returning methods never throw synchronously; the facade never writes a
 * run row itself except through `startRun`'s one transaction.
 */
import { mkdirSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import { createModelResolver, createPriceUsage } from "@promenade/agent";
import { FileTokenStore, isMcpError, TokenBroker } from "@promenade/mcp/oauth";
import { openStore } from "@promenade/store";
import type {
  EventRow,
  RunRow,
  Store,
  StoreReader,
  TriggerKind,
  WorkflowRow,
} from "@promenade/store";
import { isTerminal, RunSupervisor } from "@promenade/supervisor";
import type { SupervisorStore } from "@promenade/supervisor";
import { nextFire, parseSchedule, Scheduler } from "@promenade/scheduler";
import type { SchedulerStore } from "@promenade/scheduler";
import type { JsonValue } from "@promenade/workflow";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { createEngineAgentHooks } from "./agent-plug.ts";
import { authorizeMcp } from "./authorize.ts";
import type { AuthorizeMcpServerOptions } from "./authorize.ts";
import { prepareDeploy, readSkills, writeSkills } from "./deploy.ts";
import type { DeployArgs } from "./deploy.ts";
import { jsonProblem } from "./internal/json.ts";
import { resolveEngineOptions } from "./options.ts";
import type { EngineOptions, ResolvedEngineOptions } from "./options.ts";
import { deployFromDir } from "./workflows-dir.ts";
import type { DirDeployOptions, DirDeployReport } from "./workflows-dir.ts";

/** Options of `engine.startRun(slug, options)` (spec 02 §3.4). */
export interface StartRunOptions {
  /** The run's input (JSON). Stored as `null` when omitted; the program sees `null`. */
  input?: JsonValue;
  /** Default `"manual"`. */
  triggerKind?: TriggerKind;
  /** Top-level dedupe: a second `startRun` with the same key returns the existing run. */
  idempotencyKey?: string;
}

/** `runOnce` arguments: a deploy plus the run's input (spec 02 §7.1). */
export interface RunOnceArgs extends DeployArgs {
  input?: JsonValue;
}

/** Options of `closeGracefully` (spec 02 §3.2). */
export interface CloseGracefullyOptions {
  /** SIGKILL run processes still alive this long after the SIGTERM. Default `5000`. */
  childGraceMs?: number;
}

const CLOSED_MESSAGE = "This engine has been closed.";

/**
 * The embeddable Promenade engine. `new Engine({ dataDir })` opens (and migrates) the database
 * and builds the supervisor and scheduler; it starts no loop and recovers nothing until
 * `start()`.
 *
 * @throws EngineError `VALIDATION` for bad options; `INTERNAL` when the database cannot be opened.
 */
export class Engine {
  readonly #options: ResolvedEngineOptions;
  readonly #store: Store;
  readonly #supervisor: RunSupervisor;
  readonly #scheduler: Scheduler;
  readonly #reader: StoreReader;
  /** Reject functions of every promise handed out and not yet settled (rejected at close). */
  readonly #pending = new Set<(error: EngineError) => void>();
  /** Waiters for runs that are queued behind the gate, keyed by run id. */
  readonly #terminalWaiters = new Map<string, Set<(row: RunRow) => void>>();
  /** Aborted at close: ends interactive authorizations still waiting for a browser. */
  readonly #closing = new AbortController();
  #closed = false;
  #started = false;
  #shutdown: Promise<void> | undefined;

  /** Open the data dir. See {@link EngineOptions} for every option and its default. */
  constructor(options: EngineOptions) {
    const resolved = resolveEngineOptions(options);
    this.#options = resolved;
    try {
      mkdirSync(resolved.dataDir, { recursive: true });
    } catch (error) {
      throw new EngineError(
        "VALIDATION",
        `Engine option "dataDir" (${resolved.dataDir}) cannot be created: ${describe(error)}`,
        "Point dataDir at a writable directory.",
        { cause: error },
      );
    }
    const clock = resolved.clock;
    const store = openStore({
      path: join(resolved.dataDir, "promenade.db"),
      now: () => clock.now(),
    });
    this.#store = store;
    // Spelled out so a port that drifts from the store fails to compile right here (STYLE §4).
    const forSupervisor: SupervisorStore = store;
    const forScheduler: SchedulerStore = store;
    const getEnv = (name: string): string | undefined => {
      const fromEnv = resolved.env[name];
      if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
      const fromProcess = resolved.processEnv[name];
      return fromProcess === "" ? undefined : fromProcess;
    };
    try {
      const hooks = createEngineAgentHooks({
        inference: resolved.inference,
        getEnv,
        tokenStorePath: join(resolved.dataDir, "mcp_tokens.json"),
        now: () => clock.now(),
        agent: { createModelResolver, createPriceUsage },
        oauth: { TokenBroker, FileTokenStore, isMcpError },
      });
      this.#supervisor = new RunSupervisor({
        store: forSupervisor,
        dataDir: resolved.dataDir,
        childEntryPath: resolved.childEntryPath,
        env: new Map(Object.entries(resolved.env)),
        processEnv: resolved.processEnv,
        envLabel: resolved.envLabel,
        clock,
        log: resolved.log,
        maxRestarts: resolved.maxRestarts,
        cancelGraceMs: resolved.cancelGraceMs,
        priceUsage: hooks.priceUsage,
        hostMethods: hooks.hostMethods,
        ...(resolved.warmPoolSize > 0 ? { pool: { size: resolved.warmPoolSize } } : {}),
        // Queued runs are released on every terminal transition, so a serial queue drains in
        // embedded mode without the tick loop (spec 02 §6.7).
        onTerminal: () => {
          setImmediate(() => {
            if (!this.#closed) this.#scheduler.releaseQueued();
          });
        },
      });
      this.#scheduler = new Scheduler({
        store: forScheduler,
        dispatch: (runId) => {
          this.#supervisor.supervise(runId).catch((error: unknown) => this.#logError(runId, error));
        },
        emitQueued: (runId) => this.#supervisor.emitQueued(runId),
        clock,
        log: resolved.log,
        tickIntervalMs: resolved.tickIntervalMs,
        lateFireThresholdMs: resolved.lateFireThresholdMs,
      });
    } catch (error) {
      store.close();
      throw error;
    }
    this.#supervisor.onEvent((row) => this.#notifyTerminal(row));
    this.#reader = readOnlyView(store, () => this.#assertOpen());
  }

  /**
   * Server-mode boot: the recovery sweep (spec 02 §5.10), then the tick loop (the first tick runs
   * inside `start()`). A second call returns `{ resumed: [], cancelled: [] }`.
   * @throws EngineError `INTERNAL` after `close()`.
   */
  start(): { resumed: string[]; cancelled: string[] } {
    this.#assertOpen();
    if (this.#started) return { resumed: [], cancelled: [] };
    this.#started = true;
    const recovered = this.#supervisor.recoverOnBoot();
    this.#scheduler.start();
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
   * Receive every stamped event of every run, in stamping order, right after its commit. A
   * throwing listener is logged and never affects the run. Returns the unsubscribe function.
   */
  onEvent(listener: (row: EventRow) => void): () => void {
    this.#assertOpen();
    if (typeof listener !== "function") {
      throw new EngineError("VALIDATION", "onEvent expects a function (row: EventRow) => void.");
    }
    return this.#supervisor.onEvent((row) => {
      try {
        listener(row);
      } catch (error) {
        this.#options.log(
          `onEvent listener threw for run ${row.runId} (cursor ${row.cursor}): ${describe(error)}`,
        );
      }
    });
  }

  /**
   * Validate and store a workflow (spec 02 §3.3). Same slug ⇒ same id; program, config and
   * skills replaced. The program is never executed.
   * @throws EngineError `VALIDATION` (meta, manifest, cron, config, skill names), `INTERNAL` after close.
   */
  deployWorkflow(args: DeployArgs): WorkflowRow {
    this.#assertOpen();
    const prepared = prepareDeploy(args, {
      validate: (expr, timezone) => {
        const schedule = parseSchedule(expr, timezone);
        if (nextFire(schedule, this.#options.clock.now()) === null) {
          throw new EngineError("VALIDATION", "the schedule never fires");
        }
      },
    });
    if (prepared.ignoredFields.length > 0) {
      this.#options.log(
        `deploy "${prepared.manifest.slug}": platform-extension field(s) ${prepared.ignoredFields.join(", ")} accepted but not enforced by this engine`,
      );
    }
    const row = this.#store.upsertWorkflow({
      slug: prepared.manifest.slug,
      manifest: prepared.manifest,
      program: prepared.program,
      config: prepared.config,
    });
    writeSkills(this.#options.dataDir, row.id, prepared.skills);
    return row;
  }

  /**
   * Deploy every workflow at the top level of `dir` (spec 02 §7.2). Never rejects for one bad
   * entry: it lands in `skipped` and is logged.
   */
  async deployWorkflowsFromDir(
    dir: string,
    options: DirDeployOptions = {},
  ): Promise<DirDeployReport> {
    this.#assertOpen();
    return deployFromDir(resolvePath(dir), options, {
      deploy: (args) => this.deployWorkflow(args),
      current: (slug) => {
        this.#assertOpen();
        const row = this.#store.getWorkflow(slug);
        if (row === null) return null;
        return {
          program: row.program,
          config: row.config,
          skills: readSkills(this.#options.dataDir, row.id),
        };
      },
      log: this.#options.log,
    });
  }

  /**
   * Create a `queued` run of a deployed workflow and offer it to the concurrency gate at once
   * (spec 02 §3.4). Returns the row as created; read `engine.store` for the live status.
   * @throws EngineError `NOT_FOUND` (slug not deployed), `VALIDATION` (non-JSON input, bad
   * options), `CONFLICT` (idempotency key used by another workflow), `INTERNAL` after close.
   */
  startRun(slug: string, options: StartRunOptions = {}): RunRow {
    this.#assertOpen();
    if (typeof slug !== "string" || slug.length === 0) {
      throw new EngineError("VALIDATION", "startRun expects a workflow slug (non-empty string).");
    }
    const { input, triggerKind = "manual", idempotencyKey } = options;
    if (input !== undefined) {
      const problem = jsonProblem(input, "input");
      if (problem !== null) {
        throw new EngineError(
          "VALIDATION",
          `startRun("${slug}"): ${problem}.`,
          "Run input must be plain JSON.",
        );
      }
    }
    if (triggerKind !== "manual" && triggerKind !== "cron" && triggerKind !== "webhook") {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): triggerKind must be "manual", "cron" or "webhook".`,
      );
    }
    if (
      idempotencyKey !== undefined &&
      (typeof idempotencyKey !== "string" || idempotencyKey.length === 0)
    ) {
      throw new EngineError(
        "VALIDATION",
        `startRun("${slug}"): idempotencyKey must be a non-empty string.`,
      );
    }
    const workflow = this.#store.getWorkflow(slug);
    if (workflow === null) {
      throw new EngineError(
        "NOT_FOUND",
        `Workflow "${slug}" is not deployed on this engine.`,
        "Deploy it first with engine.deployWorkflow({ program }).",
      );
    }
    const { run, created } = this.#store.transaction(() => {
      const result = this.#store.createRun({
        workflowId: workflow.id,
        triggerKind,
        input: input ?? null,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      if (result.created) this.#supervisor.emitQueued(result.run.id);
      return result;
    });
    // A new run of an ungated workflow is handed out without re-listing the queue.
    if (created) this.#scheduler.releaseStarted(run);
    else this.#scheduler.releaseQueued();
    if (created) return run;
    return this.#store.getRun(run.id) ?? run;
  }

  /**
   * One scheduler pass (spec 02 §6.3): fire due crons, then offer queued runs to the gate.
   * Works without `start()`.
   */
  tick(): void {
    this.#assertOpen();
    this.#scheduler.tick();
  }

  /**
   * Resolve with the run's terminal row (spec 02 §3.5). Never rejects because the run failed;
   * rejects `NOT_FOUND` for an unknown id and `INTERNAL` when the engine closes first. A queued
   * run is offered to the gate; an orphan left by a dead engine is recovered here.
   */
  waitForRun(runId: string): Promise<RunRow> {
    return this.#track(() => {
      const run = this.#requireRun(runId);
      if (isTerminal(run.status)) return Promise.resolve(run);
      if (this.#supervisor.isExecuting(runId)) return this.#supervisor.supervise(runId);
      if (run.status === "queued") {
        const terminal = this.#whenTerminal(runId);
        this.#scheduler.releaseQueued();
        return terminal;
      }
      return this.#supervisor.recoverOne(runId);
    });
  }

  /**
   * Cancel a run (spec 02 §5.5); resolves once it is terminal. A terminal run is left as is.
   * @throws (rejects) EngineError `NOT_FOUND` for an unknown id, `INTERNAL` after close.
   */
  cancelRun(runId: string): Promise<void> {
    return this.#track(() => {
      this.#requireRun(runId);
      return this.#supervisor.cancel(runId);
    });
  }

  /**
   * Embedded one-shot (spec 02 §7.1): `deployWorkflow(args)` → `startRun(slug, { input })` →
   * `waitForRun`. No loop, no sweep. Resolves with the terminal row; never rejects for run failure.
   */
  async runOnce(args: RunOnceArgs): Promise<RunRow> {
    this.#assertOpen();
    const { input, ...deploy } = args;
    const workflow = this.deployWorkflow(deploy);
    const run = this.startRun(workflow.slug, input === undefined ? {} : { input });
    return this.waitForRun(run.id);
  }

  /**
   * One-time interactive OAuth grant for an HTTP MCP server (spec 03 §8.4). Tokens land in
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

  /** Read-only view of the store (spec 02 §4.6). Its methods throw `INTERNAL` after `close()`. */
  get store(): StoreReader {
    return this.#reader;
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

  /** One trivial database read. @throws EngineError `INTERNAL` after close or when unreadable. */
  ping(): void {
    this.#assertOpen();
    try {
      this.#store.maxCursor("");
    } catch (error) {
      throw new EngineError(
        "INTERNAL",
        `The engine database cannot be read: ${describe(error)}`,
        `Check ${join(this.#options.dataDir, "promenade.db")}.`,
        { cause: error },
      );
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new EngineError("INTERNAL", CLOSED_MESSAGE);
  }

  #requireRun(runId: string): RunRow {
    if (typeof runId !== "string" || runId.length === 0) {
      throw new EngineError("VALIDATION", "Expected a run id (non-empty string).");
    }
    const run = this.#store.getRun(runId);
    if (run === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    return run;
  }

  /**
   * Run `start` and hand out its promise, rejecting instead of throwing, and rejecting with
   * `INTERNAL` "closed" if the engine closes before it settles.
   */
  #track<T>(start: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(new EngineError("INTERNAL", CLOSED_MESSAGE));
        return;
      }
      const onClose = (error: EngineError): void => reject(error);
      this.#pending.add(onClose);
      let inner: Promise<T>;
      try {
        inner = start();
      } catch (error) {
        this.#pending.delete(onClose);
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      inner.then(
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

  /** Resolves with the run's row once a terminal `run_status` event for it is committed. */
  #whenTerminal(runId: string): Promise<RunRow> {
    return new Promise<RunRow>((resolve) => {
      let waiters = this.#terminalWaiters.get(runId);
      if (waiters === undefined) {
        waiters = new Set();
        this.#terminalWaiters.set(runId, waiters);
      }
      waiters.add(resolve);
    });
  }

  #notifyTerminal(row: EventRow): void {
    const { event } = row;
    if (event.kind !== "run_status" || !isTerminal(event.status)) return;
    const waiters = this.#terminalWaiters.get(row.runId);
    if (waiters === undefined) return;
    this.#terminalWaiters.delete(row.runId);
    const run = this.#store.getRun(row.runId);
    if (run === null) return;
    for (const resolve of waiters) resolve(run);
  }

  #closeWith(childGraceMs: number | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    this.#scheduler.stop();
    this.#shutdown = this.#supervisor.shutdown(childGraceMs).catch((error: unknown) => {
      this.#options.log(`engine close: run process shutdown failed: ${describe(error)}`);
    });
    const closed = new EngineError("INTERNAL", CLOSED_MESSAGE);
    for (const reject of this.#pending) reject(closed);
    this.#pending.clear();
    this.#terminalWaiters.clear();
    this.#store.close();
  }

  #logError(runId: string, error: unknown): void {
    if (this.#closed && isEngineError(error) && error.code === "INTERNAL") return;
    this.#options.log(`run ${runId}: supervision failed: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A view exposing only the reader methods, each guarded by the engine's closed check. */
function readOnlyView(store: StoreReader, assertOpen: () => void): StoreReader {
  return {
    getWorkflow: (slug) => (assertOpen(), store.getWorkflow(slug)),
    getWorkflowById: (id) => (assertOpen(), store.getWorkflowById(id)),
    listWorkflows: () => (assertOpen(), store.listWorkflows()),
    getRun: (id) => (assertOpen(), store.getRun(id)),
    listRuns: (filter) => (assertOpen(), store.listRuns(filter)),
    listEvents: (runId, options) => (assertOpen(), store.listEvents(runId, options)),
    maxCursor: (runId) => (assertOpen(), store.maxCursor(runId)),
    listArtifacts: (runId) => (assertOpen(), store.listArtifacts(runId)),
  };
}

/**
 * `RunSupervisor`: the run lifecycle. One spawned process per pass, the IPC host bridge,
 * envelope stamping and cursor allocation, every status transition, restarts, cancellation,
 * budgets, workspace persistence and the boot recovery sweep.
 * Knows nothing about SQL (only the `SupervisorStore` port, whose calls it awaits), the agent
 * loop or MCP (injected as functions), and publishes nothing: the store publishes what it commits.
 * Invariants: a run never ends twice (every status write is an `expect`-guarded `commitStatus`
 * carrying its `run_status` event); every status write of a run goes through the run's one owner
 * (an execution registered before its first store call) and its serial write queue, so cursor
 * order is commit order; nothing is stamped after a terminal transition; output and events of a
 * pass are drained before its terminal transition; a failed store write stops the pass and either
 * ends the run `failed` or leaves it for recovery; after `shutdown()` nothing new is written.
 */
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JsonValue, RunStatus } from "@promenade/workflow";
import { EngineError, isEngineError, isEngineErrorCode } from "@promenade/workflow/errors";
import { andThen, attempt, each, isTerminal, RUN_STATUSES } from "@promenade/workflow/records";
import { wallClock } from "./clock.ts";
import { EventLog } from "./event-log.ts";
import type { Transition } from "./event-log.ts";
import { defaultIdempotencyKey } from "./idempotency.ts";
import { WarmPool } from "./internal/pool.ts";
import { parseChildMessage } from "./internal/protocol-schemas.ts";
import { longestSecret, redactText } from "./internal/redaction.ts";
import {
  isValidRelativeDir,
  hydrateWorkspace,
  layoutRunDir,
  persistWorkspace,
  runDirs,
  SpareRunDirs,
} from "./internal/run-dir.ts";
import type { RunDirs } from "./internal/run-dir.ts";
import { manifestOf } from "./internal/manifest.ts";
import { buildChildEnv, resolveSecret } from "./internal/secrets.ts";
import type { ChildEnvironment, SecretSource } from "./internal/secrets.ts";
import { defaultLaunch } from "./launch.ts";
import type {
  Awaitable,
  Clock,
  HostMethod,
  InjectedHostMethodName,
  LaunchFunction,
  PriceUsage,
  RunErrorShape,
  RunRow,
  SupervisorStore,
  WorkflowRow,
} from "./ports.ts";
import { CHILD_EMITTABLE_KINDS } from "./protocol.ts";
import type { ChildMessage, InitMessage, WireError } from "./protocol.ts";

/** Options of {@link RunSupervisor}. */
export interface SupervisorOptions {
  store: SupervisorStore;
  /** Root of run dirs, skills and durable workspace state. */
  dataDir: string;
  /** Script each run process executes (it calls `runChild` from `@promenade/supervisor/child`). */
  childEntryPath: string;
  /** Default: realpath of the `@promenade/workflow` root this package resolves. */
  sdkPackageDir?: string;
  /** Secret source consulted before `processEnv`. */
  env: ReadonlyMap<string, string>;
  /** Secret fallback and the base environment of every run process. */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** Names where secrets come from, in `SECRET_MISSING` hints. */
  envLabel: string;
  /** Default: {@link defaultLaunch}. */
  launch?: (args: {
    childEntryPath: string;
    cwd: string;
    env: Record<string, string>;
  }) => ChildProcess;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Diagnostics (dropped messages, store failures, sweep summary). Default: stderr. */
  log?: (line: string) => void;
  /** Crash restarts per run. Default 2. */
  maxRestarts?: number;
  /** SIGTERM → SIGKILL window of a cancel, in ms. Default 10 000. */
  cancelGraceMs?: number;
  /** Prices one usage report in integer micro-USD. */
  priceUsage: PriceUsage;
  /** Injected host methods (`resolve_model`, `mcp_token`); a missing one fails `UNSUPPORTED`. */
  hostMethods?: Partial<Record<InjectedHostMethodName, HostMethod>>;
  /**
   * Warm pool of pre-spawned run processes, each used for exactly one run and refilled in the
   * background. Off by default; `size: 0` disables it.
   */
  pool?: { size: number };
}

/** What the boot recovery sweep did. */
export interface RecoveryReport {
  /** Runs supervised again from the top, then the `queued` runs left to the dispatch gate. */
  resumed: string[];
  /** `cancelling` runs finalized `cancelled`. */
  cancelled: string[];
}

type PassOutcome =
  | { kind: "done"; output: unknown; outputDeclared: boolean }
  | { kind: "failed"; error: WireError; output: unknown; outputDeclared: boolean }
  | { kind: "budget"; reason: string }
  | { kind: "crash"; detail: string };

interface Pass {
  child: ChildProcess | null;
  report: Extract<PassOutcome, { kind: "done" | "failed" }> | null;
  budget: string | null;
  exited: boolean;
  exitDetail: string;
  timers: AbortController;
  onExit: (() => void)[];
}

/** The one owner of a run in this supervisor: created before the first store call about it. */
interface Execution {
  runId: string;
  workflow: WorkflowRow;
  /** The run's input (`null` when none), read once per supervision. */
  input: unknown;
  log: EventLog;
  promise: Promise<RunRow>;
  resolve: (row: RunRow) => void;
  reject: (err: unknown) => void;
  cancelRequested: boolean;
  /**
   * The status this owner last issued (`null` before its first transition): decides whether a
   * cancel writes `cancelling`. Set when the write is issued, so later writes queue behind it.
   */
  status: RunStatus | null;
  /** The status the store last confirmed for this owner's writes (`null` before the first). */
  recorded: RunStatus | null;
  /** A terminal transition was issued (or the run turned out to belong to someone else). */
  ended: boolean;
  pass: Pass | null;
  memoryDirs: Set<string>;
  /** secret value → secret name, for the parent-side redaction safety net */
  secretValues: Map<string, string>;
}

type StatusFields = Omit<Transition, "to" | "expect">;

const DRAIN_AFTER_EXIT_MS = 2_000;
const EXIT_AFTER_REPORT_MS = 5_000;
const OUTPUT_HOLD_MS = 100;
const NOT_TERMINAL: readonly RunStatus[] = RUN_STATUSES.filter((status) => !isTerminal(status));

/**
 * Supervises runs: `supervise(runId)` executes one run to a terminal status, restarting crashed
 * passes, enforcing budgets and cancellation; `recoverOnBoot()` is the boot sweep.
 */
export class RunSupervisor {
  private readonly store: SupervisorStore;
  private readonly dataDir: string;
  private readonly childEntryPath: string;
  private readonly sdkPackageDir: string;
  private readonly secretSource: SecretSource;
  private readonly launch: LaunchFunction;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly maxRestarts: number;
  private readonly cancelGraceMs: number;
  private readonly priceUsage: PriceUsage;
  private readonly hostMethods: Partial<Record<InjectedHostMethodName, HostMethod>>;
  private readonly pool: WarmPool | null;
  private readonly spares: SpareRunDirs;
  private readonly executions = new Map<string, Execution>();
  private readonly liveChildren = new Set<ChildProcess>();
  private closing = false;
  private shutdownPromise: Promise<void> | null = null;

  /** Validates options; throws `VALIDATION` for a bad number. Spawns nothing unless `pool` is set. */
  constructor(options: SupervisorOptions) {
    this.store = options.store;
    this.dataDir = options.dataDir;
    this.childEntryPath = options.childEntryPath;
    this.sdkPackageDir = options.sdkPackageDir ?? resolveSdkPackageDir();
    this.secretSource = {
      env: options.env,
      processEnv: options.processEnv,
      envLabel: options.envLabel,
    };
    this.launch = options.launch ?? defaultLaunch;
    this.clock = options.clock ?? wallClock;
    this.log = options.log ?? ((line) => void process.stderr.write(`${line}\n`));
    this.maxRestarts = nonNegativeInt(options.maxRestarts ?? 2, "maxRestarts");
    this.cancelGraceMs = nonNegativeInt(options.cancelGraceMs ?? 10_000, "cancelGraceMs");
    this.priceUsage = options.priceUsage;
    this.hostMethods = options.hostMethods ?? {};
    const poolSize = nonNegativeInt(options.pool?.size ?? 0, "pool.size");
    // Without a pool, spares are prepared lazily (the first run start triggers the first fill),
    // so construction does no I/O; with a pool they are prepared with the pooled processes.
    this.spares = new SpareRunDirs(this.dataDir, this.sdkPackageDir, Math.max(2, poolSize));
    if (poolSize > 0) {
      this.pool = new WarmPool(
        poolSize,
        () => this.spawnTracked({ cwd: this.dataDir, env: definedEnv(options.processEnv) }),
        this.log,
      );
      this.pool.fill();
      this.spares.fill();
    } else {
      this.pool = null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  /**
   * Executes a run to its terminal status and resolves with the terminal row. Idempotent per run
   * (a run this supervisor owns returns the same promise). Unknown run → rejects `NOT_FOUND`;
   * terminal → resolves with it; `cancelling` but not executing → finalizes `cancelled`. Never
   * rejects because the run failed; rejects `INTERNAL` once the supervisor is shut down, and with
   * the store's error when the store failed so that the run could not even be ended (the run is
   * then left as it is, for `recoverOne` or the next boot's sweep).
   */
  supervise(runId: string): Promise<RunRow> {
    const existing = this.executions.get(runId);
    if (existing !== undefined) return existing.promise;
    if (this.closing) return Promise.reject(closedError());
    return this.own(runId, "supervise").promise;
  }

  /**
   * Cancels a run and resolves once it is terminal. Unknown → rejects `NOT_FOUND`; terminal →
   * resolves, no change; not executing → `cancelled` at once, no process; executing →
   * `cancelling`, SIGTERM, SIGKILL after `cancelGraceMs`. On a synchronous store the status
   * change (and the SIGTERM) happen before `cancel` returns.
   */
  cancel(runId: string): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    const exec = this.executions.get(runId);
    let settled: Promise<RunRow>;
    if (exec === undefined) {
      settled = this.own(runId, "cancel").promise;
    } else {
      if (!exec.cancelRequested) this.requestCancel(exec);
      settled = exec.promise;
    }
    return settled.then(() => {
      if (this.closing) throw closedError();
    });
  }

  /**
   * The boot recovery sweep: `cancelling` orphans end `cancelled`; `pending`/`running` orphans
   * are supervised again from the top; `queued` runs are left to the dispatch gate and reported
   * in `resumed` with the restarted ones. Runs this supervisor already owns are skipped, so a
   * second sweep (e.g. once the database is reachable again) only picks up orphans. A plain
   * value on a synchronous store, a promise otherwise.
   */
  recoverOnBoot(): Awaitable<RecoveryReport> {
    this.assertOpen();
    const cancelled: string[] = [];
    const restarted: string[] = [];
    const cancellingRuns = this.store.listRuns({ statuses: ["cancelling"], order: "oldest" });
    const finalized = andThen(cancellingRuns, (runs) =>
      each(runs, (run) => {
        if (this.executions.has(run.id)) return undefined;
        cancelled.push(run.id);
        return andThen(this.own(run.id, "supervise", run).outcome, () => undefined);
      }),
    );
    const active = andThen(finalized, () =>
      this.store.listRuns({ statuses: ["pending", "running"], order: "oldest" }),
    );
    const resumed = andThen(active, (runs) => {
      for (const run of runs) {
        if (this.executions.has(run.id)) continue;
        restarted.push(run.id);
        this.own(run.id, "supervise", run);
      }
      return this.store.listRuns({ statuses: ["queued"], order: "oldest" });
    });
    return andThen(resumed, (queued) => {
      this.log(
        `recovery sweep: restarted ${restarted.length} run(s), cancelled ${cancelled.length}`,
      );
      return { resumed: [...restarted, ...queued.map((run) => run.id)], cancelled };
    });
  }

  /**
   * The sweep for one run (used by `waitForRun` on an orphan): `cancelling` → `cancelled`;
   * `pending`/`running` → supervised again from the top; otherwise the same as `supervise`.
   */
  recoverOne(runId: string): Promise<RunRow> {
    return this.supervise(runId);
  }

  /** True while this supervisor owns the run (executing it, or settling a cancel or lookup). */
  isExecuting(runId: string): boolean {
    return this.executions.has(runId);
  }

  /**
   * Engine close: stop writing, SIGTERM every live run process (their rows stay non-terminal for
   * the next boot's sweep), reject pending `supervise`/`cancel` promises with `INTERNAL`.
   * Resolves once every process has exited and every store write issued before the close has
   * settled; survivors are SIGKILLed after `childGraceMs` (default 5000). Idempotent.
   */
  shutdown(childGraceMs = 5_000): Promise<void> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    // Events stamped before the close still reach the store; nothing is written after it.
    const executions = [...this.executions.values()];
    for (const exec of executions) exec.log.flush();
    this.closing = true;
    this.spares.close();
    for (const exec of executions) {
      exec.log.seal();
      exec.pass?.timers.abort();
      exec.reject(closedError());
    }
    this.executions.clear();
    const writes = executions.map((exec) => exec.log.idle());
    const poolClosed = this.pool?.close() ?? Promise.resolve();
    const exits = [...this.liveChildren].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          const timer = setTimeout(() => safeKill(child, "SIGKILL"), childGraceMs);
          child.once("exit", () => {
            clearTimeout(timer);
            resolve();
          });
          safeKill(child, "SIGTERM");
        }),
    );
    this.shutdownPromise = Promise.all([poolClosed, ...exits, ...writes]).then(() => undefined);
    return this.shutdownPromise;
  }

  // ---------------------------------------------------------------------------------------------
  // Ownership

  /**
   * Registers this supervisor as the run's owner (before any store call about it, so a
   * concurrent `supervise`/`cancel` joins it instead of racing it), then looks the run up —
   * unless `known` is its current row — and settles it: unknown → `NOT_FOUND`; terminal → as is;
   * `cancel` or `cancelling` → `cancelled` with a store-stamped event; else executed.
   */
  private own(
    runId: string,
    mode: "supervise" | "cancel",
    known?: RunRow,
  ): { promise: Promise<RunRow>; outcome: Awaitable<RunRow> } {
    const exec = this.createExecution(runId);
    exec.cancelRequested = mode === "cancel";
    this.executions.set(runId, exec);
    const release = (): void => {
      if (this.executions.get(runId) === exec) this.executions.delete(runId);
    };
    let outcome: Awaitable<RunRow>;
    try {
      outcome =
        known === undefined
          ? andThen(this.store.getRun(runId), (run) => this.begin(exec, run))
          : this.begin(exec, known);
    } catch (err) {
      outcome = Promise.reject(toError(err));
    }
    void attempt(
      () =>
        andThen(outcome, (row) => {
          release();
          exec.resolve(row);
        }),
      (err: unknown) => {
        release();
        exec.reject(err);
      },
    );
    return { promise: exec.promise, outcome };
  }

  private begin(exec: Execution, run: RunRow | null): Awaitable<RunRow> {
    if (this.closing) throw closedError();
    if (run === null) throw unknownRun(exec.runId);
    if (isTerminal(run.status)) return run;
    // Cancelled before any process started: the same as cancelling a run nobody executes.
    if (exec.cancelRequested) return this.finalizeOrphanCancel(exec.runId, NOT_TERMINAL);
    if (run.status === "cancelling") return this.finalizeOrphanCancel(exec.runId, ["cancelling"]);
    return this.execute(exec, run);
  }

  private createExecution(runId: string): Execution {
    let resolve!: (row: RunRow) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<RunRow>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Fire-and-forget callers (`void supervise(id)`) must not turn a shutdown into an
    // unhandled rejection that kills the engine process.
    promise.catch(() => undefined);
    const secretValues = new Map<string, string>();
    const exec: Execution = {
      runId,
      workflow: undefined as unknown as WorkflowRow,
      input: null,
      log: new EventLog({
        store: this.store,
        runId,
        now: () => this.clock.now(),
        secrets: secretValues,
        log: (line) => this.logRun(exec, line),
        onFatal: () => {
          // The run can no longer be recorded truthfully: stop its process now.
          const child = exec.pass?.child;
          if (child !== null && child !== undefined && exec.pass?.exited === false) {
            safeKill(child, "SIGKILL");
          }
        },
      }),
      promise,
      resolve,
      reject,
      cancelRequested: false,
      status: null,
      recorded: null,
      ended: false,
      pass: null,
      memoryDirs: new Set(),
      secretValues,
    };
    return exec;
  }

  /** `cancelled` for a run no process is executing; the store stamps the event in a fresh block. */
  private finalizeOrphanCancel(runId: string, expect: readonly RunStatus[]): Awaitable<RunRow> {
    this.assertOpen();
    return andThen(
      this.store.commitStatus(runId, { to: "cancelled", expect, endedAt: this.clock.now() }),
      (row) => row ?? this.requireRun(runId),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Execution

  private async execute(exec: Execution, initial: RunRow): Promise<RunRow> {
    try {
      return await this.executeUnsafe(exec, initial);
    } catch (err) {
      if (this.closing) throw closedError();
      this.abandonPass(exec);
      // An engine-side exception ends the run `failed`/INTERNAL if the store still works.
      this.logRun(exec, `engine-side failure: ${describe(err)}`);
      try {
        return await this.endAfterFailure(exec, err);
      } catch (storeError) {
        if (this.closing) throw closedError();
        this.logRun(
          exec,
          `could not record the end of the run (${describe(storeError)}); its process was ` +
            `stopped and the run is left ${exec.recorded ?? initial.status} for recovery ` +
            `(supervise it again, or it resumes at the next boot sweep)`,
        );
        throw storeError;
      }
    }
  }

  private async endAfterFailure(exec: Execution, err: unknown): Promise<RunRow> {
    const error: RunErrorShape = {
      code: "INTERNAL",
      message: `The engine failed while supervising run ${exec.runId}: ${describe(err)}`,
    };
    if (exec.cancelRequested) {
      const row = await this.finishTerminal(exec, "cancelled", ["cancelling", "pending"], {});
      if (row !== null) return row;
    }
    const row = await this.finishTerminal(exec, "failed", ["queued", "pending", "running"], {
      error,
    });
    return row ?? (await this.requireRun(exec.runId));
  }

  private async executeUnsafe(exec: Execution, initial: RunRow): Promise<RunRow> {
    const { runId } = exec;
    exec.input = initial.input ?? null;
    const [maxCursor, workflow] = await Promise.all([
      this.store.maxCursor(runId),
      this.store.getWorkflowById(initial.workflowId),
    ]);
    this.assertOpen();
    exec.log.resume(maxCursor);
    if (workflow === null) {
      return this.finishTerminalOrCurrent(exec, "failed", ["queued", "pending", "running"], {
        error: {
          code: "INTERNAL",
          message: `The workflow of run ${runId} (${initial.workflowId}) no longer exists.`,
        },
      });
    }
    exec.workflow = workflow;
    if (exec.cancelRequested) {
      return this.finishTerminalOrCurrent(exec, "cancelled", NOT_TERMINAL, {});
    }
    if ((await this.writeStatus(exec, "pending", ["queued", "pending", "running"])) === null) {
      // Someone else moved the run (e.g. cancelled while queued): report what it is now.
      return this.current(exec);
    }
    let hydrated = initial.startedAt !== null;
    let firstStart = initial.startedAt;
    const budget = manifestOf(workflow).budget;
    for (;;) {
      this.assertOpen();
      if (exec.cancelRequested) {
        return this.finishTerminalOrCurrent(exec, "cancelled", ["pending", "cancelling"], {});
      }
      const dirs = runDirs(this.dataDir, runId);
      if (this.spares.take(dirs)) writeFileSync(dirs.programPath, workflow.program);
      else layoutRunDir(dirs, workflow.program, this.sdkPackageDir);
      if (!hydrated) {
        hydrateWorkspace(this.dataDir, workflow.id, dirs.workspaceDir);
        hydrated = true;
      }
      const startedAt = firstStart ?? this.clock.now();
      const maxSeconds = budget?.max_duration_seconds;
      const deadline = maxSeconds === undefined ? null : startedAt + maxSeconds * 1000;
      const expired = deadline !== null && this.clock.now() >= deadline;
      let childEnv: ChildEnvironment | null = null;
      let secretError: EngineError | null = null;
      if (!expired) {
        try {
          childEnv = buildChildEnv(workflow, this.secretSource);
        } catch (err) {
          if (!isEngineError(err)) throw err;
          secretError = err;
        }
      }
      // The pass starts (spawn, or a pooled process gets `init`) before the `running` write, so
      // that write is off the start-latency path. Nothing the child sends is handled before this
      // synchronous block ends, and the write takes its cursor here, so `running` still precedes
      // every event of the pass in cursor and commit order.
      let passOutcome: Promise<PassOutcome> | null = null;
      if (childEnv !== null) {
        for (const [value, name] of childEnv.secretValues) exec.secretValues.set(value, name);
        passOutcome = this.runPass(exec, dirs, childEnv, deadline);
      }
      let row: RunRow | null = null;
      try {
        row = await this.writeStatus(exec, "running", ["pending"], { startedAt });
      } finally {
        if (row === null) this.abandonPass(exec);
      }
      if (row === null) return this.current(exec);
      firstStart = startedAt;

      let outcome: PassOutcome;
      if (secretError !== null) {
        // A secret error is the program's configuration, not a crash: fail at once.
        return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
          error: shapeOf(secretError),
        });
      } else if (passOutcome === null) {
        outcome = { kind: "budget", reason: durationReason(maxSeconds ?? 0) };
      } else {
        outcome = await passOutcome;
      }
      this.assertOpen();
      if (exec.log.fatal !== undefined) throw exec.log.fatal;
      // Events still buffered commit with the next status write (drained before the terminal
      // transition), so no separate flush here.

      if (exec.cancelRequested) {
        if ((outcome.kind === "done" || outcome.kind === "failed") && outcome.outputDeclared) {
          exec.log.stamp({ kind: "output", value: outcome.output });
        }
        return this.finishTerminalOrCurrent(exec, "cancelled", ["cancelling", "pending"], {});
      }
      switch (outcome.kind) {
        case "done": {
          if (outcome.outputDeclared) exec.log.stamp({ kind: "output", value: outcome.output });
          try {
            persistWorkspace({
              dataDir: this.dataDir,
              workflowId: workflow.id,
              runId,
              workspaceDir: dirs.workspaceDir,
              persist: manifestOf(workflow).workspace?.persist,
              memoryDirs: exec.memoryDirs,
            });
          } catch (err) {
            return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
              error: {
                code: "INTERNAL",
                message: `Persisting the workspace of run ${runId} failed: ${describe(err)}`,
              },
              ...(outcome.outputDeclared ? { output: outcome.output as JsonValue } : {}),
            });
          }
          return this.finishTerminalOrCurrent(exec, "completed", ["running"], {
            output: (outcome.outputDeclared ? outcome.output : null) as JsonValue,
          });
        }
        case "failed": {
          if (outcome.outputDeclared) exec.log.stamp({ kind: "output", value: outcome.output });
          const error: RunErrorShape = {
            code: outcome.error.code,
            message: redactText(exec.secretValues, outcome.error.message),
          };
          if (outcome.error.hint !== undefined) {
            error.hint = redactText(exec.secretValues, outcome.error.hint);
          }
          return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
            error,
            ...(outcome.outputDeclared ? { output: outcome.output as JsonValue } : {}),
          });
        }
        case "budget":
          return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
            error: { code: "BUDGET_EXCEEDED", message: outcome.reason },
          });
        case "crash": {
          const restarts = await exec.log.write("could not count the restart", () =>
            this.store.incrementRestarts(runId),
          );
          this.assertOpen();
          if (exec.cancelRequested) {
            // The cancel arrived while the restart was counted: it wins over the restart.
            return this.finishTerminalOrCurrent(exec, "cancelled", ["cancelling", "pending"], {});
          }
          if (restarts > this.maxRestarts) {
            return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
              error: {
                code: "CRASHED",
                message:
                  `The run process died ${restarts} time${restarts === 1 ? "" : "s"} ` +
                  `(last: ${outcome.detail}); restart budget exhausted.`,
                hint: `The program must settle without calling process.exit() or being killed; maxRestarts is ${this.maxRestarts}.`,
              },
            });
          }
          this.logRun(exec, `run process died (${outcome.detail}); restart ${restarts}`);
          if ((await this.writeStatus(exec, "pending", ["running"])) === null) {
            return this.current(exec);
          }
          continue;
        }
      }
    }
  }

  private runPass(
    exec: Execution,
    dirs: RunDirs,
    childEnv: ChildEnvironment,
    deadline: number | null,
  ): Promise<PassOutcome> {
    const pass: Pass = {
      child: null,
      report: null,
      budget: null,
      exited: false,
      exitDetail: "unknown",
      timers: new AbortController(),
      onExit: [],
    };
    exec.pass = pass;
    return new Promise<PassOutcome>((resolvePass) => {
      let settled = false;
      let drain: NodeJS.Timeout | undefined;
      const settlePass = (): void => {
        if (settled) return;
        settled = true;
        if (drain !== undefined) clearTimeout(drain);
        pass.timers.abort();
        if (exec.pass === pass) exec.pass = null;
        if (pass.report !== null) resolvePass(pass.report);
        else if (pass.budget !== null) resolvePass({ kind: "budget", reason: pass.budget });
        else resolvePass({ kind: "crash", detail: pass.exitDetail });
      };

      let child: ChildProcess;
      let pooled = false;
      try {
        const warm = this.pool?.take() ?? null;
        if (warm !== null) {
          child = warm;
          pooled = true;
        } else {
          child = this.spawnTracked({ cwd: dirs.workspaceDir, env: childEnv.env });
        }
      } catch (err) {
        pass.exitDetail = `spawn failed: ${describe(err)}`;
        settlePass();
        return;
      }
      pass.child = child;

      this.captureOutput(exec, child, "stdout");
      this.captureOutput(exec, child, "stderr");
      child.on("message", (raw: unknown) => this.onChildMessage(exec, pass, raw));
      child.on("error", (err) => {
        this.logRun(exec, `run process error: ${err.message}`);
        if (child.pid === undefined) {
          pass.exitDetail = `spawn failed: ${err.message}`;
          pass.exited = true;
          settlePass();
        }
      });
      const onExited = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (pass.exited) return;
        pass.exited = true;
        pass.exitDetail = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        for (const fn of pass.onExit) fn();
        // Wait for the pipes and the IPC channel to drain, but never forever (grandchildren
        // holding the pipes open must not stall the run).
        drain = setTimeout(settlePass, DRAIN_AFTER_EXIT_MS);
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        onExited(child.exitCode, child.signalCode);
      } else {
        child.once("exit", onExited);
      }
      child.once("close", () => {
        if (!pass.exited) onExited(child.exitCode, child.signalCode);
        settlePass();
      });

      const init: InitMessage = {
        type: "init",
        runId: exec.runId,
        programPath: dirs.programPath,
        workspaceDir: dirs.workspaceDir,
        skillsDir: this.skillsDir(exec.workflow.id),
        input: exec.input,
        config: exec.workflow.config,
        envSecrets: childEnv.envSecrets,
        ...(pooled ? { env: childEnv.env } : {}),
      };
      this.sendToChild(child, init);

      if (deadline !== null) {
        const maxSeconds = manifestOf(exec.workflow).budget?.max_duration_seconds ?? 0;
        this.clock.sleep(Math.max(0, deadline - this.clock.now()), pass.timers.signal).then(
          () => this.breachBudget(pass, durationReason(maxSeconds)),
          () => undefined,
        );
      }
    });
  }

  /** Kills the process of a pass whose `running` write did not happen. */
  private abandonPass(exec: Execution): void {
    const pass = exec.pass;
    if (pass === null) return;
    pass.timers.abort();
    if (pass.child !== null && !pass.exited) safeKill(pass.child, "SIGKILL");
  }

  private spawnTracked(args: { cwd: string; env: Record<string, string> }): ChildProcess {
    // A process started after the close would escape the shutdown's SIGTERM.
    this.assertOpen();
    const child = this.launch({
      childEntryPath: this.childEntryPath,
      cwd: args.cwd,
      env: args.env,
    });
    this.liveChildren.add(child);
    child.once("exit", () => this.liveChildren.delete(child));
    child.once("error", () => {
      if (child.pid === undefined) this.liveChildren.delete(child);
    });
    return child;
  }

  private captureOutput(exec: Execution, child: ChildProcess, stream: "stdout" | "stderr"): void {
    const source = child[stream];
    if (source === null) return;
    // A stream decoder keeps a multi-byte character split across chunks in one event.
    const decoder = new TextDecoder("utf-8");
    // With secrets known, the tail that could be the start of a secret split across chunks is
    // held back (and released on the next chunk, after a short idle, or at end of stream).
    let held = "";
    let idle: NodeJS.Timeout | undefined;
    const release = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = undefined;
      if (held === "") return;
      const text = held;
      held = "";
      exec.log.stamp({ kind: "program_output", stream, text });
    };
    const push = (decoded: string, final: boolean): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = undefined;
      const text = held + decoded;
      held = "";
      if (text === "") return;
      const keep = final ? 0 : longestSecret(exec.secretValues) - 1;
      if (keep <= 0) {
        exec.log.stamp({ kind: "program_output", stream, text });
        return;
      }
      const redacted = redactText(exec.secretValues, text);
      let cut = Math.max(0, redacted.length - keep);
      // Never cut between the two halves of a surrogate pair.
      const before = redacted.charCodeAt(cut - 1);
      if (cut > 0 && before >= 0xd800 && before <= 0xdbff) cut -= 1;
      if (cut > 0) {
        exec.log.stamp({ kind: "program_output", stream, text: redacted.slice(0, cut) });
      }
      held = redacted.slice(cut);
      if (held !== "") idle = setTimeout(release, OUTPUT_HOLD_MS);
    };
    source.on("data", (chunk: Buffer) => push(decoder.decode(chunk, { stream: true }), false));
    source.on("end", () => push(decoder.decode(), true));
    source.on("error", (err) => {
      this.logRun(exec, `${stream} pipe error: ${err.message}`);
    });
  }

  private requestCancel(exec: Execution): void {
    exec.cancelRequested = true;
    if (exec.ended) return;
    if (exec.status === "running") {
      // Issued now (in the caller's turn on a synchronous store), queued behind any write in
      // flight, so it lands after `running` and before the terminal `cancelled`.
      void attempt(
        () => this.writeStatus(exec, "cancelling", ["running"]),
        () => null, // the log recorded the failure and stopped the process
      );
    }
    const pass = exec.pass;
    const child = pass?.child ?? null;
    if (pass === null || child === null || pass.exited) return;
    safeKill(child, "SIGTERM");
    const grace = new AbortController();
    pass.onExit.push(() => grace.abort());
    this.clock.sleep(this.cancelGraceMs, grace.signal).then(
      () => {
        if (!pass.exited) safeKill(child, "SIGKILL");
      },
      () => undefined,
    );
  }

  private breachBudget(pass: Pass, reason: string): void {
    if (pass.report !== null || pass.budget !== null || pass.exited) return;
    pass.budget = reason;
    if (pass.child !== null) safeKill(pass.child, "SIGKILL");
  }

  // ---------------------------------------------------------------------------------------------
  // IPC

  private onChildMessage(exec: Execution, pass: Pass, raw: unknown): void {
    if (this.closing) return;
    const parsed = parseChildMessage(raw);
    if (!parsed.ok) {
      this.logRun(exec, `dropped a malformed message from the run process (${parsed.problem})`);
      return;
    }
    const message: ChildMessage = parsed.message;
    switch (message.type) {
      case "host_call":
        void this.answerHostCall(exec, pass, message.callId, message.method, message.args);
        return;
      case "emit": {
        const kind = message.body.kind;
        if (!CHILD_EMITTABLE_KINDS.has(kind)) {
          this.logRun(
            exec,
            `dropped a "${kind}" event from the run process (supervisor-owned or unknown kind)`,
          );
          return;
        }
        if (kind === "phase") {
          // Run-level frame: always the run's id, whatever the child claimed.
          exec.log.stamp(message.body);
          return;
        }
        if (message.turnId === undefined || message.turnId === exec.runId) {
          this.logRun(exec, `dropped a "${kind}" event without an agent turn id`);
          return;
        }
        exec.log.stamp(message.body, message.turnId);
        return;
      }
      case "turn_started": {
        if (message.turnId === exec.runId) {
          this.logRun(exec, `dropped a turn_started whose turn id is the run id`);
          return;
        }
        exec.log.newBlock();
        const body: Record<string, unknown> = { kind: "turn_started", agentId: message.agentId };
        if (message.agentName !== undefined) body.agentName = message.agentName;
        exec.log.stamp(body as { kind: string }, message.turnId);
        return;
      }
      case "report_usage":
        this.onUsage(exec, pass, message.modelRef, message.usage);
        return;
      case "memory_used":
        if (isValidRelativeDir(message.dir)) exec.memoryDirs.add(message.dir);
        else this.logRun(exec, `ignored memory dir "${message.dir}" (not workspace-relative)`);
        return;
      case "done":
      case "failed":
        if (pass.report !== null || pass.budget !== null) return;
        pass.report =
          message.type === "done"
            ? { kind: "done", output: message.output, outputDeclared: message.outputDeclared }
            : {
                kind: "failed",
                // A code outside the closed list cannot reach a row or an event.
                error: isEngineErrorCode(message.error.code)
                  ? message.error
                  : { ...message.error, code: "PROGRAM_ERROR" },
                output: message.output,
                outputDeclared: message.outputDeclared,
              };
        // The program has settled: the duration budget no longer applies to this pass, and a
        // process that does not exit on its own after reporting is ended.
        pass.timers.abort();
        {
          const child = pass.child;
          const watchdog = setTimeout(() => {
            if (!pass.exited && child !== null) safeKill(child, "SIGKILL");
          }, EXIT_AFTER_REPORT_MS);
          watchdog.unref();
          pass.onExit.push(() => clearTimeout(watchdog));
        }
        return;
    }
  }

  /**
   * Adds one usage report to the run's tallies (in the run's write order, so the terminal row
   * includes every report of the pass) and enforces `max_tokens` / `max_usd` on the totals the
   * store returns. Reports arriving concurrently each see the totals after their own addition.
   */
  private onUsage(
    exec: Execution,
    pass: Pass,
    modelRef: string,
    usage: { inputTokens?: number; outputTokens?: number },
  ): void {
    if (exec.ended) return;
    const tokensIn = usage.inputTokens ?? 0;
    const tokensOut = usage.outputTokens ?? 0;
    const priced: { inputTokens?: number; outputTokens?: number } = {};
    if (usage.inputTokens !== undefined) priced.inputTokens = usage.inputTokens;
    if (usage.outputTokens !== undefined) priced.outputTokens = usage.outputTokens;
    const usdMicros = Math.max(0, Math.round(this.priceUsage(modelRef, priced)));
    const recorded = attempt(
      () =>
        exec.log.write("could not record usage", () =>
          this.store.addRunUsage(exec.runId, { tokensIn, tokensOut, usdMicros }),
        ),
      () => null, // the log recorded the failure and stopped the process
    );
    void andThen(recorded, (total) => {
      if (total === null || pass.budget !== null || pass.report !== null) return;
      const budget = manifestOf(exec.workflow).budget;
      if (budget === undefined) return;
      const tokens = total.tokensIn + total.tokensOut;
      if (budget.max_tokens !== undefined && tokens > budget.max_tokens) {
        this.breachBudget(
          pass,
          `Run exceeded budget.max_tokens (${budget.max_tokens}): ${tokens} tokens used.`,
        );
        return;
      }
      if (budget.max_usd !== undefined && total.usdMicros > budget.max_usd * 1_000_000) {
        this.breachBudget(
          pass,
          `Run exceeded budget.max_usd ($${budget.max_usd}, approximate rates): about $${(total.usdMicros / 1_000_000).toFixed(6)} spent.`,
        );
      }
    });
  }

  private async answerHostCall(
    exec: Execution,
    pass: Pass,
    callId: number,
    method: string,
    args: Record<string, unknown>,
  ): Promise<void> {
    let result: { ok: true; value: unknown } | { ok: false; error: WireError };
    try {
      const value = await this.hostCall(exec, method, args);
      result = { ok: true, value: value === undefined ? null : value };
    } catch (err) {
      result = { ok: false, error: engineSideShape(err) };
    }
    const child = pass.child;
    if (this.closing || child === null || pass.exited || !child.connected) return;
    this.sendToChild(child, { type: "host_result", callId, result });
  }

  private async hostCall(
    exec: Execution,
    method: string,
    args: Record<string, unknown>,
  ): Promise<unknown> {
    switch (method) {
      case "get_secret": {
        const name = args.name;
        if (typeof name !== "string" || name === "") {
          throw new EngineError("VALIDATION", "secrets.get needs a non-empty secret name.");
        }
        const value = resolveSecret(name, exec.workflow, this.secretSource);
        exec.secretValues.set(value, name);
        return value;
      }
      case "call_workflow":
      case "run_workflow":
        return this.startChildRun(exec, method, args);
      case "write_artifact":
        return this.writeArtifact(exec, args);
      case "resolve_model":
      case "mcp_token": {
        const handler = this.hostMethods[method];
        if (handler === undefined) {
          throw new EngineError(
            "UNSUPPORTED",
            `Host method "${method}" is not available on this engine.`,
          );
        }
        return handler(args, { runId: exec.runId, workflow: exec.workflow });
      }
      default:
        throw new EngineError("UNSUPPORTED", `Unknown host method "${method}".`);
    }
  }

  private async startChildRun(
    exec: Execution,
    method: "call_workflow" | "run_workflow",
    args: Record<string, unknown>,
  ): Promise<unknown> {
    const slug = args.slug;
    const hook = method === "call_workflow" ? "workflows.call" : "workflows.run";
    if (typeof slug !== "string" || slug === "") {
      throw new EngineError("VALIDATION", `${hook} needs a non-empty workflow slug.`);
    }
    const target = await this.store.getWorkflow(slug);
    if (target === null) {
      throw new EngineError(
        "NOT_FOUND",
        `${hook} target "${slug}" is not deployed on this engine.`,
        `Deploy the workflow "${slug}" first.`,
      );
    }
    // The input crossed a JSON channel (the run process already refused non-JSON values).
    const input = (args.input === undefined ? null : args.input) as JsonValue;
    let key: string;
    if (args.idempotencyKey === undefined) {
      key = defaultIdempotencyKey(exec.runId, slug, input);
    } else if (typeof args.idempotencyKey === "string" && args.idempotencyKey !== "") {
      key = args.idempotencyKey;
    } else {
      throw new EngineError(
        "VALIDATION",
        `${hook}: idempotencyKey must be a non-empty string.`,
        "Omit idempotencyKey to use the default key.",
      );
    }
    this.assertOpen();
    // The store writes a created child's `queued` event with the row.
    const { run } = await this.store.createRun({
      workflowId: target.id,
      triggerKind: "manual",
      input,
      parentRunId: exec.runId,
      idempotencyKey: key,
    });
    if (method === "run_workflow") {
      // Children bypass the concurrency gate and run without the parent holding.
      this.supervise(run.id).catch(() => undefined);
      return run.id;
    }
    const child = await this.supervise(run.id);
    if (child.status === "completed") return child.output ?? null;
    if (child.status === "cancelled") {
      throw new EngineError(
        "CANCELLED",
        `Child workflow "${slug}" (run ${child.id}) was cancelled.`,
      );
    }
    throw new EngineError(
      "PROGRAM_ERROR",
      `Child workflow "${slug}" (run ${child.id}) failed: ${child.error?.message ?? "unknown error"}`,
    );
  }

  private async writeArtifact(exec: Execution, args: Record<string, unknown>): Promise<unknown> {
    const { name, contentType, bodyBase64, metadata } = args;
    if (
      typeof name !== "string" ||
      name === "" ||
      name.includes("/") ||
      name.includes("\\") ||
      name.includes("..")
    ) {
      throw new EngineError(
        "VALIDATION",
        `Artifact name "${String(name)}" must be a plain file name.`,
        "Use a name without /, \\ or .. such as report.txt.",
      );
    }
    if (typeof contentType !== "string" || contentType === "") {
      throw new EngineError("VALIDATION", "artifacts.write needs a non-empty contentType.");
    }
    if (typeof bodyBase64 !== "string") {
      throw new EngineError("VALIDATION", "artifacts.write needs a body.");
    }
    if (
      metadata !== undefined &&
      (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
    ) {
      throw new EngineError("VALIDATION", "artifacts.write metadata must be a JSON object.");
    }
    const dirs = runDirs(this.dataDir, exec.runId);
    const path = join(dirs.artifactsDir, name);
    const bytes = Buffer.from(bodyBase64, "base64");
    writeFileSync(path, bytes);
    this.assertOpen();
    const row = await this.store.createArtifact({
      runId: exec.runId,
      name,
      contentType,
      path,
      size: bytes.byteLength,
      ...(metadata === undefined ? {} : { metadata: metadata as Record<string, unknown> }),
    });
    return { id: row.id, name: row.name, url: pathToFileURL(path).href };
  }

  private sendToChild(child: ChildProcess, message: unknown): void {
    if (!child.connected) return;
    try {
      child.send(message as object, (err) => {
        if (err !== null && err !== undefined) {
          // The process went away mid-send; its exit is handled by the pass.
        }
      });
    } catch {
      // Channel closed between the check and the send: same as above.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Status writes

  /**
   * Issues a status transition of an executing run through its log (buffered events first, so
   * cursor order is commit order). Resolves with the updated row, or `null` when the run was
   * not in one of `expect` — the run then belongs to someone else and this owner stops.
   */
  private writeStatus(
    exec: Execution,
    to: RunStatus,
    expect: readonly RunStatus[],
    fields: StatusFields = {},
  ): Awaitable<RunRow | null> {
    this.assertOpen();
    const terminal = isTerminal(to);
    exec.status = to;
    if (terminal) exec.ended = true;
    return andThen(exec.log.commitStatus({ to, expect, ...fields }, { terminal }), (row) => {
      if (row !== null) exec.recorded = row.status;
      return row;
    });
  }

  /** Terminal transition of an executing run; `null` when the run was not in `expect`. */
  private async finishTerminal(
    exec: Execution,
    to: "completed" | "failed" | "cancelled",
    expect: readonly RunStatus[],
    fields: { output?: JsonValue; error?: RunErrorShape },
  ): Promise<RunRow | null> {
    return this.writeStatus(exec, to, expect, { ...fields, endedAt: this.clock.now() });
  }

  private async finishTerminalOrCurrent(
    exec: Execution,
    to: "completed" | "failed" | "cancelled",
    expect: readonly RunStatus[],
    fields: { output?: JsonValue; error?: RunErrorShape },
  ): Promise<RunRow> {
    const row = await this.finishTerminal(exec, to, expect, fields);
    if (row !== null) return row;
    const current = await this.current(exec);
    this.logRun(exec, `expected to end ${to} but it is ${current.status}`);
    return current;
  }

  /** The run as it is now, for an owner that stops because someone else moved the run. */
  private async current(exec: Execution): Promise<RunRow> {
    exec.ended = true;
    return this.requireRun(exec.runId);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A diagnostic about one run; child-provided text in it is redacted like its events. */
  private logRun(exec: Execution, line: string): void {
    this.log(redactText(exec.secretValues, `run ${exec.runId}: ${line}`));
  }

  private skillsDir(workflowId: string): string | null {
    const dir = join(this.dataDir, "skills", workflowId);
    return existsSync(dir) ? dir : null;
  }

  private requireRun(runId: string): Awaitable<RunRow> {
    return andThen(this.store.getRun(runId), (run) => {
      if (run === null) throw unknownRun(runId);
      return run;
    });
  }

  private assertOpen(): void {
    if (this.closing) throw closedError();
  }
}

function resolveSdkPackageDir(): string {
  const require = createRequire(import.meta.url);
  return realpathSync(dirname(require.resolve("@promenade/workflow/package.json")));
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") out[key] = value;
  return out;
}

function durationReason(seconds: number): string {
  return `Run exceeded budget.max_duration_seconds (${seconds}): it ran longer than ${seconds} s.`;
}

function nonNegativeInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new EngineError(
      "VALIDATION",
      `${name} must be an integer ≥ 0 (got ${String(value)}).`,
      `Fix the ${name} option of the supervisor.`,
    );
  }
  return value;
}

function safeKill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // Already gone.
  }
}

function unknownRun(runId: string): EngineError {
  return new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
}

function closedError(): EngineError {
  return new EngineError("INTERNAL", "This engine has been closed.");
}

function shapeOf(err: EngineError): RunErrorShape {
  return err.hint === undefined
    ? { code: err.code, message: err.message }
    : { code: err.code, message: err.message, hint: err.hint };
}

/** Engine-side errors crossing to the program: `EngineError` as is, anything else `INTERNAL`. */
function engineSideShape(err: unknown): WireError {
  if (isEngineError(err)) return shapeOf(err);
  return { code: "INTERNAL", message: describe(err) };
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `RunSupervisor`: the run lifecycle's front door and its execution registry. It validates the
 * options, owns the registry of executions (one owner per run, registered before the first
 * store call about it, so a concurrent `supervise`/`cancel` joins instead of racing), the
 * tracked run processes and the warm pool, and the boot recovery sweep and shutdown. The pass
 * loop is `pass.ts`, outcome → status `outcome.ts`, the process `process.ts`, IPC
 * `child-messages.ts` and `host-calls.ts`, budgets `budgets.ts`, the per-run event log and write
 * queue `event-log.ts`.
 * Knows nothing about SQL (only the `SupervisorStore` port, whose calls it awaits), the agent
 * loop or MCP (injected as functions), and publishes nothing: the store publishes what it commits.
 * Invariants: a run never ends twice (every status write is an `expect`-guarded `commitStatus`
 * carrying its `run_status` event); every status write of a run goes through the run's one owner
 * and its serial write queue, so cursor order is commit order; nothing is stamped after a
 * terminal transition; output and events of a pass are drained before its terminal transition;
 * a failed store write stops the pass and either ends the run `failed` or leaves it for
 * recovery; after `shutdown()` nothing new is written or started.
 */
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { wallClock } from "@promenade/workflow/clock";
import type { Clock } from "@promenade/workflow/clock";
import { EngineError } from "@promenade/workflow/errors";
import { andThen, attempt, each, isTerminal, RUN_STATUSES } from "@promenade/workflow/records";
import { assertOpen } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import { abandonPass, createExecution } from "./execution.ts";
import type { Execution } from "./execution.ts";
import { definedEnv, safeKill } from "./internal/child-process.ts";
import { closedError, toError, unknownRun } from "./internal/errors.ts";
import { BootQueue } from "./internal/boot-queue.ts";
import { WarmPool } from "./internal/pool.ts";
import { SpareRunDirs } from "./internal/run-dir.ts";
import { DEFAULT_RUN_NICENESS, defaultLaunch, lowerPriority, prepareSpawner } from "./launch.ts";
import { executeRun } from "./pass.ts";
import type {
  Awaitable,
  HostMethod,
  HumanInputRequestRow,
  InjectedHostMethodName,
  LaunchFunction,
  PriceUsage,
  RunRow,
  RunStatus,
  SupervisorStore,
} from "./ports.ts";
import { signalCancel } from "./process.ts";
import { LIVE, requireRun, writeStatus } from "./transitions.ts";
import { answerInput, cancelGates, takeRemoteAnswer } from "./human-input.ts";

/** Options of {@link RunSupervisor}. */
export interface SupervisorOptions {
  store: SupervisorStore;
  /**
   * Root of artifacts, skills and durable workspace state, and of run dirs unless `workDir` is
   * set. In a cluster, a directory every node shares.
   */
  dataDir: string;
  /**
   * Root of run working directories (`<workDir>/runs/<runId>`: program and workspace), which need
   * not be shared: a directory on the machine's own disk. Default: `dataDir`.
   */
  workDir?: string;
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
  /**
   * The operator's ceiling on the agent's built-in tools: a call's selection is narrowed to it,
   * never widened. Default `"all"`.
   */
  agentBuiltins?: "all" | "read-only" | "none";
  /** Prices one usage report in integer micro-USD. */
  priceUsage: PriceUsage;
  /** Injected host methods (`resolve_model`, `mcp_token`); a missing one fails `UNSUPPORTED`. */
  hostMethods?: Partial<Record<InjectedHostMethodName, HostMethod>>;
  /**
   * Warm pool of pre-spawned run processes, each used for exactly one run and refilled in the
   * background. Off by default; `size: 0` disables it.
   */
  pool?: { size: number };
  /**
   * Run processes booting at once (created, not yet ready to take their run). `startRun` never
   * waits for a process: it is created on a later turn of the event loop, one per turn, in the
   * order the runs started, while fewer than this many are booting; the others wait their turn.
   * A run cancelled while its process waits ends without one. Default: the machine's cores
   * (`availableParallelism()`): booting is CPU work, so more at once only shares the same cores
   * among more processes, each of them resident while it waits.
   */
  maxBooting?: number;
  /**
   * How much lower than this process's CPU priority run processes run: niceness added to each
   * one's (integer 0–19, capped at the lowest priority, 19). With, say, 10, busy run processes
   * do not starve the engine, so it keeps answering while many runs boot and work — but they
   * also yield to every other process of the machine. Default `0`: this process's priority.
   */
  runNiceness?: number;
  /**
   * How a `workflows.call` / `workflows.run` child is executed and waited for. Default: this
   * supervisor's `supervise`. A cluster node passes a function that claims the child first, or
   * waits for it through the store when another node holds it.
   */
  superviseChild?: (runId: string) => Promise<RunRow>;
}

/** Options of one `supervise` call. */
export interface SuperviseOptions {
  /**
   * The run was taken over from another node of a cluster whose lease expired: its first pass
   * starts with reason `failover` (a restart from the top that uses no crash restart).
   */
  failover?: boolean;
}

/** What the boot recovery sweep did. */
export interface RecoveryReport {
  /** Runs supervised again from the top, then the `queued` runs left to the dispatch gate. */
  resumed: string[];
  /** `cancelling` runs finalized `cancelled`. */
  cancelled: string[];
}

const NOT_TERMINAL: readonly RunStatus[] = RUN_STATUSES.filter((status) => !isTerminal(status));

/**
 * Supervises runs: `supervise(runId)` executes one run to a terminal status, restarting crashed
 * passes, enforcing budgets and cancellation; `recoverOnBoot()` is the boot sweep.
 */
export class RunSupervisor {
  private readonly ctx: SupervisorContext;
  private readonly store: SupervisorStore;
  private readonly childEntryPath: string;
  private readonly launch: LaunchFunction;
  private readonly runNiceness: number;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly pool: WarmPool | null;
  private readonly boots: BootQueue;
  private readonly spares: SpareRunDirs;
  private readonly executions = new Map<string, Execution>();
  private readonly liveChildren = new Set<ChildProcess>();
  private closing = false;
  private shutdownPromise: Promise<void> | null = null;

  /**
   * Validates options; throws `VALIDATION` for a bad number. Spawns no run process unless `pool`
   * is set (with the default launch, it starts the engine process's spawner).
   */
  constructor(options: SupervisorOptions) {
    this.store = options.store;
    this.childEntryPath = options.childEntryPath;
    this.launch = options.launch ?? defaultLaunch;
    this.runNiceness = nonNegativeInt(options.runNiceness ?? DEFAULT_RUN_NICENESS, "runNiceness");
    if (this.runNiceness > 19) {
      throw new EngineError(
        "VALIDATION",
        `runNiceness must be an integer from 0 to 19 (got ${String(this.runNiceness)}).`,
        "Fix the runNiceness option of the supervisor.",
      );
    }
    this.clock = options.clock ?? wallClock;
    this.log = options.log ?? ((line) => void process.stderr.write(`${line}\n`));
    const dataDir = options.dataDir;
    const workDir = options.workDir ?? dataDir;
    const sdkPackageDir = options.sdkPackageDir ?? resolveSdkPackageDir();
    const maxRestarts = nonNegativeInt(options.maxRestarts ?? 2, "maxRestarts");
    const cancelGraceMs = nonNegativeInt(options.cancelGraceMs ?? 10_000, "cancelGraceMs");
    const poolSize = nonNegativeInt(options.pool?.size ?? 0, "pool.size");
    const maxBooting = nonNegativeInt(options.maxBooting ?? availableParallelism(), "maxBooting");
    if (maxBooting === 0) {
      throw new EngineError(
        "VALIDATION",
        "maxBooting must be an integer ≥ 1 (got 0).",
        "Fix the maxBooting option of the supervisor.",
      );
    }
    this.boots = new BootQueue({ limit: maxBooting });
    // The default launch creates processes in the spawner process: start it now, so the first
    // run does not wait for it to boot (one for the whole engine process; idle, it keeps
    // nothing alive).
    if (options.launch === undefined) prepareSpawner();
    // Without a pool, spares are prepared lazily (the first run start triggers the first fill),
    // so construction does no I/O; with a pool they are prepared with the pooled processes.
    this.spares = new SpareRunDirs(workDir, sdkPackageDir, Math.max(2, poolSize));
    if (poolSize > 0) {
      this.pool = new WarmPool(
        poolSize,
        () => this.spawnTracked({ cwd: dataDir, env: definedEnv(options.processEnv) }),
        this.boots,
        this.log,
      );
      this.pool.fill();
      this.spares.fill();
    } else {
      this.pool = null;
    }
    this.ctx = {
      store: this.store,
      dataDir,
      workDir,
      sdkPackageDir,
      secretSource: {
        env: options.env,
        processEnv: options.processEnv,
        envLabel: options.envLabel,
      },
      clock: this.clock,
      maxRestarts,
      cancelGraceMs,
      agentBuiltins: options.agentBuiltins ?? "all",
      priceUsage: options.priceUsage,
      hostMethods: options.hostMethods ?? {},
      spares: this.spares,
      boots: this.boots,
      pool: this.pool,
      log: this.log,
      spawn: (args) => this.spawnTracked(args),
      supervise: options.superviseChild ?? ((runId) => this.supervise(runId)),
      isClosing: () => this.closing,
    };
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
  supervise(runId: string, options: SuperviseOptions = {}): Promise<RunRow> {
    const existing = this.executions.get(runId);
    if (existing !== undefined) return existing.promise;
    if (this.closing) return Promise.reject(closedError());
    return this.own(runId, "supervise", undefined, options.failover === true).promise;
  }

  /**
   * Stops executing a run at once, writing nothing more for it: its process is SIGKILLed, its
   * event log sealed, its timers stopped, and its `supervise`/`cancel` promises reject with
   * `reason`. For a cluster node that lost the run's lease (another node now executes it).
   * Returns whether the run was being executed here.
   */
  abandon(runId: string, reason: Error): boolean {
    const exec = this.executions.get(runId);
    if (exec === undefined) return false;
    this.executions.delete(runId);
    exec.abandoned = reason;
    exec.log.seal();
    exec.backoff?.abort();
    abandonPass(exec);
    cancelGates(exec);
    exec.reject(reason);
    return true;
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
   * (and runs held `awaiting_input` or `waiting_for_child`) are supervised again from the top;
   * `queued` runs are left to the dispatch gate and reported in `resumed` with the restarted ones. Runs this supervisor already owns are skipped, so a
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
      this.store.listRuns({ statuses: ["pending", ...LIVE], order: "oldest" }),
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

  /**
   * Answers a pending human-input request of `runId`. Checks, in order: unknown run →
   * `NOT_FOUND` ("Unknown run"); no pending request with `key` → `NOT_FOUND` ("No pending
   * human-input request", what a second answer gets); an answer that does not fit the gate's
   * form → `VALIDATION` (the request stays pending); then stores the normalized answer only if
   * the request is still pending (`CONFLICT` "already answered" when another answer won),
   * writes `human_input_resolved`, wakes the waiting call and returns the resolved row. An answer
   * given while no pass waits is stored for the next pass to find. A plain value (or a
   * synchronous throw) on a synchronous store, a promise otherwise.
   */
  respondToInput(
    runId: string,
    key: string,
    value: unknown,
    opts: { respondedBy?: string } = {},
  ): Awaitable<HumanInputRequestRow> {
    return answerInput(
      this.ctx,
      this.executions.get(runId),
      runId,
      key,
      value,
      opts.respondedBy ?? null,
    );
  }

  /**
   * An answer another node of a cluster stored for a run this supervisor executes: writes its
   * event and wakes the call waiting on `key`. False when no call of the current pass waits on
   * it (the pass that reaches the key writes the event then).
   */
  takeRemoteAnswer(runId: string, key: string): Promise<boolean> {
    const exec = this.executions.get(runId);
    if (exec === undefined || this.closing) return Promise.resolve(false);
    return takeRemoteAnswer(this.ctx, exec, key);
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
    // A spare being made finishes before the close resolves: nothing is made in the data dir
    // afterwards.
    const sparesClosed = this.spares.close();
    // Processes not created yet never will be; their passes end without one.
    this.boots.close();
    for (const exec of executions) {
      exec.log.seal();
      exec.pass?.timers.abort();
      exec.backoff?.abort();
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
    this.shutdownPromise = Promise.all([sparesClosed, poolClosed, ...exits, ...writes]).then(
      () => undefined,
    );
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
    failover = false,
  ): { promise: Promise<RunRow>; outcome: Awaitable<RunRow> } {
    const exec = createExecution(this.ctx, runId);
    exec.cancelRequested = mode === "cancel";
    exec.failover = failover;
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
    return executeRun(this.ctx, exec, run);
  }

  /** `cancelled` for a run no process is executing; the store stamps the event in a fresh block. */
  private finalizeOrphanCancel(runId: string, expect: readonly RunStatus[]): Awaitable<RunRow> {
    this.assertOpen();
    return andThen(
      this.store.commitStatus(runId, { to: "cancelled", expect, endedAt: this.clock.now() }),
      (row) => row ?? requireRun(this.ctx, runId),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Cancellation and processes

  private requestCancel(exec: Execution): void {
    exec.cancelRequested = true;
    exec.backoff?.abort();
    if (exec.ended) return;
    if (exec.status !== null && LIVE.includes(exec.status)) {
      // Issued now (in the caller's turn on a synchronous store), queued behind any write in
      // flight, so it lands after `running` and before the terminal `cancelled`.
      void attempt(
        () => writeStatus(this.ctx, exec, "cancelling", LIVE),
        () => null, // the log recorded the failure and stopped the process
      );
    }
    // Calls waiting for a person reject CANCELLED before the process is signalled.
    cancelGates(exec);
    signalCancel(this.ctx, exec);
  }

  private spawnTracked(args: { cwd: string; env: Record<string, string> }): ChildProcess {
    // A process started after the close would escape the shutdown's SIGTERM.
    this.assertOpen();
    const child = this.launch({
      childEntryPath: this.childEntryPath,
      cwd: args.cwd,
      env: args.env,
    });
    // A process the spawner creates has its pid a moment later.
    if (child.pid === undefined) child.once("spawn", () => lowerPriority(child, this.runNiceness));
    else lowerPriority(child, this.runNiceness);
    this.liveChildren.add(child);
    child.once("exit", () => this.liveChildren.delete(child));
    child.once("error", () => {
      if (child.pid === undefined) this.liveChildren.delete(child);
    });
    return child;
  }

  private assertOpen(): void {
    assertOpen(this.ctx);
  }
}

function resolveSdkPackageDir(): string {
  const require = createRequire(import.meta.url);
  return realpathSync(dirname(require.resolve("@promenade/workflow/package.json")));
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

/**
 * `RunSupervisor`: the run lifecycle (spec 02 §5). One spawned process per pass, the IPC host
 * bridge, envelope stamping and cursor allocation, every status transition of §5.2, restarts,
 * cancellation, budgets, workspace persistence and the boot recovery sweep.
 * Knows nothing about SQL (only the `SupervisorStore` port), the agent loop or MCP (injected as
 * functions). Invariants: a run never ends twice (every status write is an `expect`-guarded
 * update committed together with its `run_status` event); nothing is stamped after a terminal
 * event; output and events of a pass are drained before its terminal transition; after
 * `shutdown()` nothing more is written.
 */
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { runEventSchema } from "@promenade/workflow";
import type { JsonValue, RunEvent, RunStatus } from "@promenade/workflow";
import { EngineError, isEngineError, isEngineErrorCode } from "@promenade/workflow/errors";
import { wallClock } from "./clock.ts";
import { defaultIdempotencyKey } from "./idempotency.ts";
import { Envelope } from "./internal/envelope.ts";
import { WarmPool } from "./internal/pool.ts";
import { parseChildMessage } from "./internal/protocol-schemas.ts";
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
  Clock,
  EventRow,
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
import { isTerminal } from "./status.ts";

/** Options of {@link RunSupervisor} (spec 02 §5.1, plus the warm `pool`). */
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
  /** Default: spawn of spec 02 §5.17 ({@link defaultLaunch}). */
  launch?: (args: {
    childEntryPath: string;
    cwd: string;
    env: Record<string, string>;
  }) => ChildProcess;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Diagnostics (dropped messages, sweep summary). Default: stderr. */
  log?: (line: string) => void;
  /** Crash restarts per run. Default 2. */
  maxRestarts?: number;
  /** SIGTERM → SIGKILL window of a cancel, in ms. Default 10 000. */
  cancelGraceMs?: number;
  /** Prices one usage report in integer micro-USD. */
  priceUsage: PriceUsage;
  /** Injected host methods (`resolve_model`, `mcp_token`); a missing one fails `UNSUPPORTED`. */
  hostMethods?: Partial<Record<InjectedHostMethodName, HostMethod>>;
  /** Called (on a later macrotask) after every terminal transition this supervisor writes. */
  onTerminal?: (run: RunRow) => void;
  /**
   * Warm pool of pre-spawned run processes, each used for exactly one run and refilled in the
   * background. Off by default; `size: 0` disables it.
   */
  pool?: { size: number };
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

interface Execution {
  runId: string;
  workflow: WorkflowRow;
  /** The run's input (`null` when none), read once per supervision. */
  input: unknown;
  envelope: Envelope;
  promise: Promise<RunRow>;
  resolve: (row: RunRow) => void;
  reject: (err: unknown) => void;
  cancelRequested: boolean;
  terminal: boolean;
  pass: Pass | null;
  memoryDirs: Set<string>;
  /** secret value → secret name, for the parent-side redaction safety net */
  secretValues: Map<string, string>;
  buffer: EventRow[];
  flushScheduled: boolean;
  fatal: Error | undefined;
}

const DRAIN_AFTER_EXIT_MS = 2_000;
const EXIT_AFTER_REPORT_MS = 5_000;
const MAX_BUFFERED_EVENTS = 2_000;
const OUTPUT_HOLD_MS = 100;
const ACTIVE: readonly RunStatus[] = ["pending", "running"];

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
  private readonly onTerminal: ((run: RunRow) => void) | undefined;
  private readonly pool: WarmPool | null;
  private readonly spares: SpareRunDirs;
  private readonly executions = new Map<string, Execution>();
  private readonly listeners = new Set<(row: EventRow) => void>();
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
    this.onTerminal = options.onTerminal;
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
   * (an executing run returns the same promise). Unknown run → rejects `NOT_FOUND`; terminal →
   * resolves at once; `cancelling` but not executing → finalizes `cancelled`. Never rejects
   * because the run failed; rejects `INTERNAL` once the supervisor is shut down.
   */
  supervise(runId: string): Promise<RunRow> {
    const existing = this.executions.get(runId);
    if (existing !== undefined) return existing.promise;
    if (this.closing) return Promise.reject(closedError());
    let run: RunRow | null;
    try {
      run = this.store.getRun(runId);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (run === null) return Promise.reject(unknownRun(runId));
    if (isTerminal(run.status)) return Promise.resolve(run);
    if (run.status === "cancelling") {
      try {
        return Promise.resolve(this.finalizeOrphanCancel(runId, ["cancelling"]));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    const exec = this.createExecution(runId);
    this.executions.set(runId, exec);
    // `execute` runs synchronously up to its first await: the row read above is still current.
    void this.execute(exec, run).then(
      (row) => {
        this.executions.delete(runId);
        exec.resolve(row);
      },
      (err: unknown) => {
        this.executions.delete(runId);
        exec.reject(err);
      },
    );
    return exec.promise;
  }

  /**
   * Stamps the `queued` event of a freshly created run with a fresh envelope. Call it inside the
   * `store.transaction` that created the run: the event then commits with the row and listeners
   * see it after the commit.
   */
  emitQueued(runId: string): void {
    this.assertOpen();
    this.stampFresh(runId, { kind: "run_status", status: "queued" });
  }

  /**
   * Cancels a run (spec 02 §5.5) and resolves once it is terminal. Unknown → rejects
   * `NOT_FOUND`; terminal → resolves, no change; not executing → `cancelled` at once, no
   * process; executing → `cancelling`, SIGTERM, SIGKILL after `cancelGraceMs`.
   */
  async cancel(runId: string): Promise<void> {
    if (this.closing) throw closedError();
    const exec = this.executions.get(runId);
    if (exec === undefined) {
      const run = this.store.getRun(runId);
      if (run === null) throw unknownRun(runId);
      if (isTerminal(run.status)) return;
      this.finalizeOrphanCancel(runId, ["queued", "pending", "running", "cancelling"]);
      return;
    }
    if (!exec.cancelRequested) this.requestCancel(exec);
    await exec.promise.then(
      () => undefined,
      () => undefined,
    );
    if (this.closing) throw closedError();
  }

  /**
   * The boot recovery sweep (spec 02 §5.10): `cancelling` orphans end `cancelled`;
   * `pending`/`running` orphans are supervised again from the top; `queued` runs are left to the
   * dispatch gate and reported in `resumed` with the restarted ones.
   */
  recoverOnBoot(): { resumed: string[]; cancelled: string[] } {
    this.assertOpen();
    const cancelled: string[] = [];
    for (const run of this.store.listRuns({ statuses: ["cancelling"], order: "oldest" })) {
      if (this.executions.has(run.id)) continue;
      this.finalizeOrphanCancel(run.id, ["cancelling"]);
      cancelled.push(run.id);
    }
    const restarted: string[] = [];
    for (const run of this.store.listRuns({ statuses: ACTIVE, order: "oldest" })) {
      if (this.executions.has(run.id)) continue;
      restarted.push(run.id);
      void this.supervise(run.id);
    }
    const queued = this.store
      .listRuns({ statuses: ["queued"], order: "oldest" })
      .map((run) => run.id);
    this.log(`recovery sweep: restarted ${restarted.length} run(s), cancelled ${cancelled.length}`);
    return { resumed: [...restarted, ...queued], cancelled };
  }

  /**
   * The sweep for one run (used by `waitForRun` on an orphan): `cancelling` → `cancelled`;
   * `pending`/`running` → supervised again from the top; otherwise the same as `supervise`.
   */
  recoverOne(runId: string): Promise<RunRow> {
    return this.supervise(runId);
  }

  /** True while this supervisor is executing the run. */
  isExecuting(runId: string): boolean {
    return this.executions.has(runId);
  }

  /**
   * Subscribes to every stamped event of every run, delivered right after its commit, per run in
   * cursor order. A throwing listener is logged and never affects the run. Returns unsubscribe.
   */
  onEvent(listener: (row: EventRow) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Engine close: stop writing, SIGTERM every live run process (their rows stay non-terminal for
   * the next boot's sweep), reject pending `supervise`/`cancel` promises with `INTERNAL`.
   * Resolves once every process has exited; survivors are SIGKILLed after `childGraceMs`
   * (default 5000). Idempotent.
   */
  shutdown(childGraceMs = 5_000): Promise<void> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    // Events stamped before the close still reach the store; nothing is written after it.
    for (const exec of this.executions.values()) this.flush(exec);
    this.closing = true;
    this.spares.close();
    for (const exec of this.executions.values()) {
      exec.pass?.timers.abort();
      exec.reject(closedError());
    }
    this.executions.clear();
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
    this.shutdownPromise = Promise.all([poolClosed, ...exits]).then(() => undefined);
    return this.shutdownPromise;
  }

  // ---------------------------------------------------------------------------------------------
  // Execution

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
    return {
      runId,
      workflow: undefined as unknown as WorkflowRow,
      input: null,
      envelope: new Envelope(0, 0),
      promise,
      resolve,
      reject,
      cancelRequested: false,
      terminal: false,
      pass: null,
      memoryDirs: new Set(),
      secretValues: new Map(),
      buffer: [],
      flushScheduled: false,
      fatal: undefined,
    };
  }

  private async execute(exec: Execution, initial: RunRow): Promise<RunRow> {
    const { runId } = exec;
    try {
      return await this.executeUnsafe(exec, initial);
    } catch (err) {
      if (this.closing) throw closedError();
      // An engine-side exception ends the run `failed`/INTERNAL if the store still works.
      this.logRun(exec, `engine-side failure: ${describe(err)}`);
      const error: RunErrorShape = {
        code: "INTERNAL",
        message: `The engine failed while supervising run ${runId}: ${describe(err)}`,
      };
      if (exec.cancelRequested) {
        const row = this.finishTerminal(exec, "cancelled", ["cancelling", "pending"], {});
        if (row !== null) return row;
      }
      const row = this.finishTerminal(exec, "failed", ["queued", "pending", "running"], {
        error,
      });
      return row ?? this.requireRun(runId);
    }
  }

  private async executeUnsafe(exec: Execution, initial: RunRow): Promise<RunRow> {
    const { runId } = exec;
    exec.input = initial.input ?? null;
    exec.envelope = Envelope.resume(this.store.maxCursor(runId));
    const workflow = this.store.getWorkflowById(initial.workflowId);
    if (workflow === null) {
      const row = this.finishTerminal(exec, "failed", ["queued", "pending", "running"], {
        error: {
          code: "INTERNAL",
          message: `The workflow of run ${runId} (${initial.workflowId}) no longer exists.`,
        },
      });
      return row ?? this.requireRun(runId);
    }
    exec.workflow = workflow;
    if (!this.writeStatus(exec, "pending", ["queued", "pending", "running"])) {
      // Someone else moved the run (e.g. cancelled while queued): report what it is now.
      exec.terminal = true;
      return this.requireRun(runId);
    }
    let hydrated = initial.startedAt !== null;
    let firstStart = initial.startedAt;
    const budget = manifestOf(workflow).budget;
    for (;;) {
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
      // synchronous block ends, so `running` still precedes every event of the pass.
      let passOutcome: Promise<PassOutcome> | null = null;
      if (childEnv !== null) {
        for (const [value, name] of childEnv.secretValues) exec.secretValues.set(value, name);
        passOutcome = this.runPass(exec, dirs, childEnv, deadline);
      }
      let applied = false;
      try {
        applied = this.writeStatus(exec, "running", ["pending"], { startedAt });
      } finally {
        if (!applied) this.abandonPass(exec);
      }
      if (!applied) {
        exec.terminal = true;
        return this.requireRun(runId);
      }
      firstStart = startedAt;

      let outcome: PassOutcome;
      if (secretError !== null) {
        // [P] A secret error is the program's configuration, not a crash: fail at once.
        return this.finishTerminalOrCurrent(exec, "failed", ["running"], {
          error: shapeOf(secretError),
        });
      } else if (passOutcome === null) {
        outcome = { kind: "budget", reason: durationReason(maxSeconds ?? 0) };
      } else {
        outcome = await passOutcome;
        if (this.closing) throw closedError();
      }
      if (exec.fatal !== undefined) throw exec.fatal;
      // Events still buffered commit in the same transaction as the next status write (§5.3
      // step 9: drained before the terminal transition), so no separate flush here.

      if (exec.cancelRequested) {
        if ((outcome.kind === "done" || outcome.kind === "failed") && outcome.outputDeclared) {
          this.stamp(exec, { kind: "output", value: outcome.output });
        }
        return this.finishTerminalOrCurrent(exec, "cancelled", ["cancelling", "pending"], {});
      }
      switch (outcome.kind) {
        case "done": {
          if (outcome.outputDeclared) this.stamp(exec, { kind: "output", value: outcome.output });
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
          if (outcome.outputDeclared) this.stamp(exec, { kind: "output", value: outcome.output });
          const error: RunErrorShape = {
            code: outcome.error.code,
            message: this.redact(exec, outcome.error.message),
          };
          if (outcome.error.hint !== undefined) error.hint = this.redact(exec, outcome.error.hint);
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
          const restarts = this.store.incrementRestarts(runId);
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
          if (!this.writeStatus(exec, "pending", ["running"])) {
            exec.terminal = true;
            return this.requireRun(runId);
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
      const settle = (): void => {
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
        settle();
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
          settle();
        }
      });
      const onExited = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (pass.exited) return;
        pass.exited = true;
        pass.exitDetail = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        for (const fn of pass.onExit) fn();
        // Wait for the pipes and the IPC channel to drain, but never forever (grandchildren
        // holding the pipes open must not stall the run).
        drain = setTimeout(settle, DRAIN_AFTER_EXIT_MS);
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        onExited(child.exitCode, child.signalCode);
      } else {
        child.once("exit", onExited);
      }
      child.once("close", () => {
        if (!pass.exited) onExited(child.exitCode, child.signalCode);
        settle();
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
          () => this.breachBudget(exec, pass, durationReason(maxSeconds)),
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
      this.stamp(exec, { kind: "program_output", stream, text });
    };
    const push = (decoded: string, final: boolean): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = undefined;
      const text = held + decoded;
      held = "";
      if (text === "") return;
      const keep = final ? 0 : this.longestSecret(exec) - 1;
      if (keep <= 0) {
        this.stamp(exec, { kind: "program_output", stream, text });
        return;
      }
      const redacted = this.redact(exec, text);
      let cut = Math.max(0, redacted.length - keep);
      // Never cut between the two halves of a surrogate pair.
      const before = redacted.charCodeAt(cut - 1);
      if (cut > 0 && before >= 0xd800 && before <= 0xdbff) cut -= 1;
      if (cut > 0) {
        this.stamp(exec, { kind: "program_output", stream, text: redacted.slice(0, cut) });
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

  private longestSecret(exec: Execution): number {
    let longest = 0;
    for (const value of exec.secretValues.keys()) {
      if (value.length >= 4 && value.length > longest) longest = value.length;
    }
    return longest;
  }

  private requestCancel(exec: Execution): void {
    exec.cancelRequested = true;
    const run = this.requireRun(exec.runId);
    if (run.status === "running") this.writeStatus(exec, "cancelling", ["running"]);
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

  private breachBudget(exec: Execution, pass: Pass, reason: string): void {
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
          this.stamp(exec, message.body);
          return;
        }
        if (message.turnId === undefined || message.turnId === exec.runId) {
          this.logRun(exec, `dropped a "${kind}" event without an agent turn id`);
          return;
        }
        this.stamp(exec, message.body, message.turnId);
        return;
      }
      case "turn_started": {
        if (message.turnId === exec.runId) {
          this.logRun(exec, `dropped a turn_started whose turn id is the run id`);
          return;
        }
        exec.envelope.newBlock();
        const body: Record<string, unknown> = { kind: "turn_started", agentId: message.agentId };
        if (message.agentName !== undefined) body.agentName = message.agentName;
        this.stamp(exec, body as { kind: string }, message.turnId);
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

  private onUsage(
    exec: Execution,
    pass: Pass,
    modelRef: string,
    usage: { inputTokens?: number; outputTokens?: number },
  ): void {
    if (exec.terminal) return;
    const tokensIn = usage.inputTokens ?? 0;
    const tokensOut = usage.outputTokens ?? 0;
    const priced: { inputTokens?: number; outputTokens?: number } = {};
    if (usage.inputTokens !== undefined) priced.inputTokens = usage.inputTokens;
    if (usage.outputTokens !== undefined) priced.outputTokens = usage.outputTokens;
    const usdMicros = Math.max(0, Math.round(this.priceUsage(modelRef, priced)));
    this.store.addRunUsage(exec.runId, { tokensIn, tokensOut, usdMicros });
    if (pass.budget !== null || pass.report !== null) return;
    const budget = manifestOf(exec.workflow).budget;
    if (budget === undefined) return;
    const total = this.store.getRunUsage(exec.runId);
    if (budget.max_tokens !== undefined && total.tokensIn + total.tokensOut > budget.max_tokens) {
      this.breachBudget(
        exec,
        pass,
        `Run exceeded budget.max_tokens (${budget.max_tokens}): ${total.tokensIn + total.tokensOut} tokens used.`,
      );
      return;
    }
    if (budget.max_usd !== undefined && total.usdMicros > budget.max_usd * 1_000_000) {
      this.breachBudget(
        exec,
        pass,
        `Run exceeded budget.max_usd ($${budget.max_usd}, approximate rates): about $${(total.usdMicros / 1_000_000).toFixed(6)} spent.`,
      );
    }
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
    const target = this.store.getWorkflow(slug);
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
    const { run } = this.store.transaction(() => {
      const created = this.store.createRun({
        workflowId: target.id,
        triggerKind: "manual",
        input,
        parentRunId: exec.runId,
        idempotencyKey: key,
      });
      if (created.created)
        this.stampFresh(created.run.id, { kind: "run_status", status: "queued" });
      return created;
    });
    if (method === "run_workflow") {
      // Children bypass the concurrency gate (spec 02 §6.6) and run without the parent holding.
      void this.supervise(run.id);
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

  private writeArtifact(exec: Execution, args: Record<string, unknown>): unknown {
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
    const row = this.store.createArtifact({
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
  // Stamping and status writes

  /** Buffers one event of an executing run; the buffer is committed on the next macrotask. */
  private stamp(
    exec: Execution,
    body: { kind: string } & Record<string, unknown>,
    turnId?: string,
  ): void {
    if (this.closing) return;
    if (exec.terminal) {
      this.logRun(exec, `dropped a late "${body.kind}" event (run already ended)`);
      return;
    }
    const safeBody = exec.secretValues.size === 0 ? body : this.redactBody(exec, body);
    const position = { ...exec.envelope };
    const next = exec.envelope.next();
    const event = {
      ...safeBody,
      runId: exec.runId,
      turnId: turnId ?? exec.runId,
      seq: next.seq,
      t: this.clock.now(),
    };
    const check = runEventSchema.safeParse(event);
    if (!check.success) {
      exec.envelope.block = position.block;
      exec.envelope.seq = position.seq;
      this.logRun(
        exec,
        `dropped an invalid "${body.kind}" event: ${check.error.issues[0]?.message ?? "invalid"}`,
      );
      return;
    }
    exec.buffer.push({ runId: exec.runId, cursor: next.cursor, event: event as RunEvent });
    if (exec.buffer.length >= MAX_BUFFERED_EVENTS) {
      this.flush(exec);
    } else if (!exec.flushScheduled) {
      exec.flushScheduled = true;
      setImmediate(() => {
        exec.flushScheduled = false;
        this.flush(exec);
      });
    }
  }

  /** Commits the buffered events of a run in one transaction, then publishes them. */
  private flush(exec: Execution): void {
    if (exec.buffer.length === 0 || this.closing) return;
    const rows = exec.buffer.splice(0);
    try {
      this.store.transaction(() => {
        this.store.appendEvents(
          exec.runId,
          rows.map((row) => ({ cursor: row.cursor, event: row.event })),
        );
        this.store.afterCommit(() => this.publish(rows));
      });
    } catch (err) {
      // The store refused the batch: the run cannot be recorded truthfully any more.
      exec.fatal ??= err instanceof Error ? err : new Error(String(err));
      this.logRun(exec, `could not persist events: ${describe(err)}`);
      const child = exec.pass?.child;
      if (child !== null && child !== undefined) safeKill(child, "SIGKILL");
    }
  }

  private publish(rows: readonly EventRow[]): void {
    for (const row of rows) {
      for (const listener of this.listeners) {
        try {
          listener(row);
        } catch (err) {
          this.log(`event listener threw: ${describe(err)}`);
        }
      }
    }
  }

  /** Stamps one event with a fresh envelope (a run this supervisor is not executing). */
  private stampFresh(runId: string, body: { kind: "run_status"; status: RunStatus }): void {
    const envelope = Envelope.resume(this.store.maxCursor(runId));
    const next = envelope.next();
    // Built here from typed values (a `run_status` body): not re-validated on the start path.
    const event: RunEvent = { ...body, runId, turnId: runId, seq: next.seq, t: this.clock.now() };
    const row: EventRow = { runId, cursor: next.cursor, event };
    this.store.appendEvents(runId, [{ cursor: row.cursor, event: row.event }]);
    this.store.afterCommit(() => this.publish([row]));
  }

  /**
   * Writes a status transition of an executing run and its `run_status` event in one
   * transaction (buffered events first, so cursor order is commit order). False when the run
   * was not in one of `expect`.
   */
  private writeStatus(
    exec: Execution,
    to: RunStatus,
    expect: readonly RunStatus[],
    extra: { startedAt?: number; endedAt?: number; output?: JsonValue; error?: RunErrorShape } = {},
  ): boolean {
    this.assertOpen();
    if (exec.terminal) return false;
    return this.store.transaction(() => {
      if (exec.buffer.length > 0) {
        const rows = exec.buffer.splice(0);
        this.store.appendEvents(
          exec.runId,
          rows.map((row) => ({ cursor: row.cursor, event: row.event })),
        );
        this.store.afterCommit(() => this.publish(rows));
      }
      const applied = this.store.updateRunStatus(exec.runId, to, { ...extra, expect });
      if (!applied) return false;
      const body: Record<string, unknown> & { kind: string } = { kind: "run_status", status: to };
      if (extra.error !== undefined) {
        body.error = { code: extra.error.code, message: extra.error.message };
      }
      const next = exec.envelope.next();
      const event = {
        ...body,
        runId: exec.runId,
        turnId: exec.runId,
        seq: next.seq,
        t: this.clock.now(),
      };
      // Built here from typed values: not re-validated (this runs on the start path).
      const row: EventRow = { runId: exec.runId, cursor: next.cursor, event: event as RunEvent };
      this.store.appendEvents(exec.runId, [{ cursor: row.cursor, event: row.event }]);
      this.store.afterCommit(() => this.publish([row]));
      return true;
    });
  }

  /** Terminal transition of an executing run; `null` when the run was not in `expect`. */
  private finishTerminal(
    exec: Execution,
    to: "completed" | "failed" | "cancelled",
    expect: readonly RunStatus[],
    extra: { output?: JsonValue; error?: RunErrorShape },
  ): RunRow | null {
    const applied = this.writeStatus(exec, to, expect, { ...extra, endedAt: this.clock.now() });
    if (!applied) return null;
    exec.terminal = true;
    const row = this.requireRun(exec.runId);
    this.notifyTerminal(row);
    return row;
  }

  private finishTerminalOrCurrent(
    exec: Execution,
    to: "completed" | "failed" | "cancelled",
    expect: readonly RunStatus[],
    extra: { output?: JsonValue; error?: RunErrorShape },
  ): RunRow {
    const row = this.finishTerminal(exec, to, expect, extra);
    if (row !== null) return row;
    exec.terminal = true;
    const current = this.requireRun(exec.runId);
    this.logRun(exec, `expected to end ${to} but it is ${current.status}`);
    return current;
  }

  /** `cancelled` for a run no process is executing, with a fresh envelope. */
  private finalizeOrphanCancel(runId: string, expect: readonly RunStatus[]): RunRow {
    this.assertOpen();
    const applied = this.store.transaction(() => {
      const ok = this.store.updateRunStatus(runId, "cancelled", {
        endedAt: this.clock.now(),
        expect,
      });
      if (ok) this.stampFresh(runId, { kind: "run_status", status: "cancelled" });
      return ok;
    });
    const row = this.requireRun(runId);
    if (applied) this.notifyTerminal(row);
    return row;
  }

  private notifyTerminal(row: RunRow): void {
    const hook = this.onTerminal;
    if (hook === undefined) return;
    setImmediate(() => {
      if (this.closing) return;
      try {
        hook(row);
      } catch (err) {
        this.log(`onTerminal hook threw: ${describe(err)}`);
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** A diagnostic about one run; child-provided text in it is redacted like its events. */
  private logRun(exec: Execution, line: string): void {
    this.log(this.redact(exec, `run ${exec.runId}: ${line}`));
  }

  private redact(exec: Execution, text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    const entries = [...exec.secretValues].filter(([value]) => value.length >= 4);
    entries.sort((a, b) => b[0].length - a[0].length);
    for (const [value, name] of entries) {
      if (out.includes(value)) out = out.split(value).join(`[redacted:${name}]`);
    }
    return out;
  }

  private redactBody(
    exec: Execution,
    body: { kind: string } & Record<string, unknown>,
  ): { kind: string } & Record<string, unknown> {
    const text = JSON.stringify(body);
    let hit = false;
    for (const value of exec.secretValues.keys()) {
      if (value.length >= 4 && text.includes(value)) {
        hit = true;
        break;
      }
    }
    if (!hit) return body;
    return redactDeep(body, (s) => this.redact(exec, s)) as { kind: string } & Record<
      string,
      unknown
    >;
  }

  private skillsDir(workflowId: string): string | null {
    const dir = join(this.dataDir, "skills", workflowId);
    return existsSync(dir) ? dir : null;
  }

  private requireRun(runId: string): RunRow {
    const run = this.store.getRun(runId);
    if (run === null) throw unknownRun(runId);
    return run;
  }

  private assertOpen(): void {
    if (this.closing) throw closedError();
  }
}

function redactDeep(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, redact);
    return out;
  }
  return value;
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

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One execution: the state a supervisor keeps while it owns a run — the owner's promise, its
 * event log, the cancel flag, the status it last issued and the current pass (one run process).
 * An execution is registered before the first store call about its run, so every status write
 * of the run has one author.
 */
import type { ChildProcess } from "node:child_process";
import { Redactor } from "@promenade/workflow/redact";
import { logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import { EventLog } from "./event-log.ts";
import type { Gate } from "./human-input.ts";
import { safeKill } from "./internal/child-process.ts";
import type { PassReason, RunRow, RunStatus, WorkflowRow } from "./ports.ts";
import type { WireError } from "./protocol.ts";
import type { VersionSkills } from "./skills.ts";

/** How a pass (one run process) ended. */
export type PassOutcome =
  | { kind: "done"; output: unknown; outputDeclared: boolean }
  | { kind: "failed"; error: WireError; output: unknown; outputDeclared: boolean }
  | { kind: "budget"; reason: string }
  | { kind: "crash"; detail: string };

/** One pass: its process and what has been observed of it. */
export interface Pass {
  child: ChildProcess | null;
  /** The program's own `done` / `failed` report (the first one wins). */
  report: Extract<PassOutcome, { kind: "done" | "failed" }> | null;
  /** The reason of the first budget breach. */
  budget: string | null;
  exited: boolean;
  exitDetail: string;
  /** Aborted when the pass settles: stops its deadline and grace timers. */
  timers: AbortController;
  /** Called once when the process exits. */
  onExit: (() => void)[];
  /** Human-input gates of this pass by key (calls waiting for a person). */
  gates: Map<string, Gate>;
  /** `workflows.call`s of this pass waiting for their child run to end. */
  childWaits: number;
}

/** The one owner of a run in this supervisor. */
export interface Execution {
  runId: string;
  /** Captured once per supervision (set before the first pass). */
  workflow: WorkflowRow;
  /**
   * The skills of the run's version (set with `workflow`), or `null` to read the workflow's
   * skills folder as it is (a run without a version, or a version that kept no skills).
   */
  skills: VersionSkills | null;
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
  /**
   * Why the current pass started, stamped on its `pending` and `running` statuses: the first
   * pass of a supervision is the run's first start (it was `queued`) or an engine restart (it was
   * left `pending`, `running` or held by an earlier supervision); a later pass is a crash
   * restart.
   */
  passReason: PassReason;
  /** The run was taken over from a cluster node whose lease expired (first pass: `failover`). */
  failover: boolean;
  /** Set when the run was abandoned (its lease lost): nothing more is started or written. */
  abandoned: Error | undefined;
  /** Attempts the retry policy started again so far (the row's `retries`). */
  retries: number;
  /** When the retry the run waits for is due (epoch ms), or `null`. */
  retryAt: number | null;
  /** Aborted to end a retry wait early (a cancel, the shutdown); `null` when not waiting. */
  backoff: AbortController | null;
  memoryDirs: Set<string>;
  /**
   * Every secret value the run resolved (env-interpolated or `secrets.get`), under its name: the
   * parent-side redaction safety net for the run's events, output, errors, stored values and logs.
   */
  redactor: Redactor;
}

/** A fresh execution of `runId` (not yet registered, no store call made). */
export function createExecution(ctx: SupervisorContext, runId: string): Execution {
  let resolve!: (row: RunRow) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<RunRow>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Fire-and-forget callers (`void supervise(id)`) must not turn a shutdown into an
  // unhandled rejection that kills the engine process.
  promise.catch(() => undefined);
  const redactor = new Redactor();
  const exec: Execution = {
    runId,
    workflow: undefined as unknown as WorkflowRow,
    skills: null,
    input: null,
    log: new EventLog({
      store: ctx.store,
      runId,
      now: () => ctx.clock.now(),
      redactor,
      log: (line) => logRun(ctx, exec, line),
      onFatal: () => {
        // The run can no longer be recorded truthfully: stop its process now.
        const pass = exec.pass;
        if (pass?.child !== null && pass?.child !== undefined && !pass.exited) {
          safeKill(pass.child, "SIGKILL");
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
    passReason: "first_start",
    failover: false,
    abandoned: undefined,
    retries: 0,
    retryAt: null,
    backoff: null,
    memoryDirs: new Set(),
    redactor,
  };
  return exec;
}

/** Stops the process of the current pass at once (its `running` write failed, or the run did). */
export function abandonPass(exec: Execution): void {
  const pass = exec.pass;
  if (pass === null) return;
  pass.timers.abort();
  if (pass.child !== null && !pass.exited) safeKill(pass.child, "SIGKILL");
}

/**
 * The pass loop of one supervision: load the workflow and resume the envelope, `pending`, then
 * per pass lay out the run dir, start the process, `running`, await the outcome and map it
 * (`outcome.ts`) — until the run ends. Each pass's `pending` and `running` carry why the pass
 * started: `first_start` when the supervision found the run `queued`, `engine_restart` when an
 * earlier supervision left it `pending`, `running` or held (the boot recovery sweep), `failover`
 * when a cluster node took the run over from a node whose lease expired,
 * `crash_restart` for a pass after a crashed one, `retry` for a pass the workflow's retry policy
 * started after a failed attempt (also when an engine restart finds the run waiting for one: the
 * pass waits out the stored due time first). After each pass its process's lifetime is added to
 * the run's active time, which `max_duration_seconds` limits. An engine-side failure (a throw
 * anywhere, including a failed store write) stops the pass and ends the run `failed`/`INTERNAL`;
 * when even that write fails, the run is left as it is for recovery and the failure is logged and
 * rethrown.
 */
import type { EngineError } from "@promenade/workflow/errors";
import { isEngineError } from "@promenade/workflow/errors";
import { isTerminal, RUN_STATUSES } from "@promenade/workflow/records";
import { deadlineOf, wallDeadlineOf } from "./budgets.ts";
import { assertOpen, logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import { abandonPass } from "./execution.ts";
import type { Execution, PassOutcome } from "./execution.ts";
import { closedError, describe, shapeOf } from "./internal/errors.ts";
import { hydrateWorkspace, runDirs } from "./internal/run-dir.ts";
import { buildChildEnv } from "./internal/secrets.ts";
import type { ChildEnvironment } from "./internal/secrets.ts";
import { afterPass } from "./outcome.ts";
import type { RunErrorShape, RunRow, RunStatus } from "./ports.ts";
import { startPass } from "./process.ts";
import { resumeRetry, waitForRetry } from "./retry.ts";
import { programOf } from "./program.ts";
import {
  current,
  finishTerminal,
  finishTerminalOrCurrent,
  LIVE,
  requireRun,
  writeStatus,
} from "./transitions.ts";

const NOT_TERMINAL: readonly RunStatus[] = RUN_STATUSES.filter((status) => !isTerminal(status));

/** Executes a run (its row read as `initial`) to its terminal row. */
export async function executeRun(
  ctx: SupervisorContext,
  exec: Execution,
  initial: RunRow,
): Promise<RunRow> {
  try {
    return await passLoop(ctx, exec, initial);
  } catch (err) {
    if (ctx.isClosing()) throw closedError();
    abandonPass(exec);
    // Abandoned, or a write refused because the cluster lease was lost: another node executes the
    // run; write nothing more.
    if (exec.abandoned !== undefined) throw exec.abandoned;
    if (isEngineError(err) && err.code === "CONFLICT" && err.message.startsWith("Lease lost:")) {
      throw err;
    }
    // An engine-side exception ends the run `failed`/INTERNAL if the store still works.
    logRun(ctx, exec, `engine-side failure: ${describe(err)}`);
    try {
      return await endAfterFailure(ctx, exec, err);
    } catch (storeError) {
      if (ctx.isClosing()) throw closedError();
      logRun(
        ctx,
        exec,
        `could not record the end of the run (${describe(storeError)}); its process was ` +
          `stopped and the run is left ${exec.recorded ?? initial.status} for recovery ` +
          `(supervise it again, or it resumes at the next boot sweep)`,
      );
      throw storeError;
    }
  }
}

async function endAfterFailure(
  ctx: SupervisorContext,
  exec: Execution,
  err: unknown,
): Promise<RunRow> {
  const error: RunErrorShape = {
    code: "INTERNAL",
    message: `The engine failed while supervising run ${exec.runId}: ${describe(err)}`,
  };
  if (exec.cancelRequested) {
    const row = await finishTerminal(ctx, exec, "cancelled", ["cancelling", "pending"], {});
    if (row !== null) return row;
  }
  const row = await finishTerminal(ctx, exec, "failed", ["queued", "pending", ...LIVE], {
    error,
  });
  return row ?? (await requireRun(ctx, exec.runId));
}

async function passLoop(ctx: SupervisorContext, exec: Execution, initial: RunRow): Promise<RunRow> {
  const { runId } = exec;
  exec.input = initial.input ?? null;
  const [, workflow] = await Promise.all([
    exec.log.resumeFromStore(() => ctx.store.maxCursor(runId)),
    ctx.store.getWorkflowById(initial.workflowId),
  ]);
  assertOpen(ctx);
  if (workflow === null) {
    return finishTerminalOrCurrent(ctx, exec, "failed", ["queued", "pending", ...LIVE], {
      error: {
        code: "INTERNAL",
        message: `The workflow of run ${runId} (${initial.workflowId}) no longer exists.`,
      },
    });
  }
  const program = await programOf(ctx, initial, workflow);
  assertOpen(ctx);
  if ("error" in program) {
    return finishTerminalOrCurrent(ctx, exec, "failed", ["queued", "pending", ...LIVE], program);
  }
  exec.workflow = program.workflow;
  exec.skills = program.skills;
  if (exec.cancelRequested) {
    return finishTerminalOrCurrent(ctx, exec, "cancelled", NOT_TERMINAL, {});
  }
  resumeRetry(exec, initial);
  exec.passReason =
    initial.status === "queued"
      ? "first_start"
      : exec.retryAt !== null
        ? "retry"
        : exec.failover
          ? "failover"
          : "engine_restart";
  const opened = await writeStatus(ctx, exec, "pending", ["queued", "pending", ...LIVE], {
    reason: exec.passReason,
  });
  if (opened === null) {
    // Someone else moved the run (e.g. cancelled while queued): report what it is now.
    return current(ctx, exec);
  }
  let hydrated = initial.startedAt !== null;
  let firstStart = initial.startedAt;
  let activeMs = initial.activeMs;
  for (;;) {
    // A retry waits out its backoff first (no longer than the wall-clock deadline).
    if (exec.retryAt !== null) await waitForRetry(ctx, exec, wallDeadlineOf(exec, firstStart));
    const dirs = runDirs(ctx, runId);
    // The pass's process is asked for right after: no refill of the warm pool begins meanwhile
    // (`startPass` then keeps them out of the run's start).
    const starting = ctx.boots.announce();
    try {
      await ctx.spares.layOut(dirs, exec.workflow.program);
    } finally {
      starting();
    }
    // Checked after every wait, right before the pass starts (a cancel arriving later signals
    // the pass's process).
    assertOpen(ctx);
    if (exec.abandoned !== undefined) throw exec.abandoned;
    if (exec.cancelRequested) {
      return finishTerminalOrCurrent(ctx, exec, "cancelled", ["pending", "cancelling"], {});
    }
    if (!hydrated) {
      hydrateWorkspace(ctx.dataDir, workflow.id, dirs.workspaceDir);
      hydrated = true;
    }
    const passStart = ctx.clock.now();
    const startedAt = firstStart ?? passStart;
    const deadline = deadlineOf(exec, { startedAt, passStart, activeMs });
    // A time budget already spent: no pass starts, the run fails with its reason.
    const expired = deadline !== null && passStart >= deadline.at ? deadline : null;
    let childEnv: ChildEnvironment | null = null;
    let secretError: EngineError | null = null;
    if (expired === null) {
      try {
        childEnv = buildChildEnv(exec.workflow, ctx.secretSource);
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
      for (const [value, name] of childEnv.secretValues) exec.redactor.add(name, value);
      passOutcome = startPass(ctx, exec, dirs, childEnv, deadline);
    }
    let running: RunRow | null = null;
    try {
      running = await writeStatus(ctx, exec, "running", ["pending"], {
        startedAt,
        reason: exec.passReason,
      });
    } finally {
      if (running === null) abandonPass(exec);
    }
    if (running === null) return current(ctx, exec);
    firstStart = startedAt;

    let outcome: PassOutcome;
    if (secretError !== null) {
      // A secret error is the program's configuration, not a crash: fail at once.
      return finishTerminalOrCurrent(ctx, exec, "failed", LIVE, {
        error: shapeOf(secretError),
      });
    } else if (passOutcome === null) {
      outcome = { kind: "budget", reason: expired?.reason ?? "" };
    } else {
      outcome = await passOutcome;
      // The pass's process lived from its start to its outcome: that time is the run's.
      const spent = Math.max(0, ctx.clock.now() - passStart);
      assertOpen(ctx);
      activeMs = await exec.log.write("could not record the run's active time", () =>
        ctx.store.addActiveMs(runId, spent),
      );
    }
    assertOpen(ctx);
    if (exec.log.fatal !== undefined) throw exec.log.fatal;
    // Events still buffered commit with the next status write (drained before the terminal
    // transition), so no separate flush here.
    const next = await afterPass(ctx, exec, outcome, dirs);
    if ("end" in next) return next.end;
  }
}

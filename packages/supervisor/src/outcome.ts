/**
 * Outcome → status: how a settled pass ends the run, or restarts it. A requested cancel wins
 * over every outcome (a `done` that won the race still stamps its `output` event first);
 * `done` persists the workspace and completes; `failed` retries when the workflow's retry policy
 * says so (`retry.ts`), else fails; budget breaches fail; a crash counts
 * a restart and either loops (`pending`) or fails `CRASHED` once the restart budget is spent.
 * The terminal transition carries every event still buffered, so output is drained before it.
 * A declared output is redacted once (every secret value the run resolved): the `output` event
 * and the row's `output` hold the same redacted value.
 */
import type { JsonValue } from "@promenade/workflow";
import { assertOpen, logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution, PassOutcome } from "./execution.ts";
import { describe } from "./internal/errors.ts";
import { programErrorDetails } from "./internal/program-error.ts";
import { manifestOf } from "./internal/manifest.ts";
import { persistWorkspace } from "./internal/run-dir.ts";
import type { RunDirs } from "./internal/run-dir.ts";
import type { RunErrorShape, RunRow } from "./ports.ts";
import { retryAfterFailure } from "./retry.ts";
import { current, finishTerminalOrCurrent, LIVE, writeStatus } from "./transitions.ts";

/** What the pass loop does next: end with this row, or start another pass. */
export type AfterPass = { end: RunRow } | { restart: true };

/** Maps a settled pass to the run's next step. */
export async function afterPass(
  ctx: SupervisorContext,
  exec: Execution,
  outcome: PassOutcome,
  dirs: RunDirs,
): Promise<AfterPass> {
  const { runId, workflow } = exec;
  const end = async (row: Promise<RunRow>): Promise<AfterPass> => ({ end: await row });
  const output =
    (outcome.kind === "done" || outcome.kind === "failed") && outcome.outputDeclared
      ? { value: exec.redactor.redactDeep(outcome.output) as JsonValue }
      : null;
  if (exec.cancelRequested) {
    if (output !== null) exec.log.stamp({ kind: "output", value: output.value });
    return end(finishTerminalOrCurrent(ctx, exec, "cancelled", ["cancelling", "pending"], {}));
  }
  switch (outcome.kind) {
    case "done": {
      if (output !== null) exec.log.stamp({ kind: "output", value: output.value });
      try {
        persistWorkspace({
          dataDir: ctx.dataDir,
          workflowId: workflow.id,
          runId,
          workspaceDir: dirs.workspaceDir,
          persist: manifestOf(workflow).workspace?.persist,
          memoryDirs: exec.memoryDirs,
        });
      } catch (err) {
        return end(
          finishTerminalOrCurrent(ctx, exec, "failed", LIVE, {
            error: {
              code: "INTERNAL",
              message: `Persisting the workspace of run ${runId} failed: ${describe(err)}`,
            },
            ...(output === null ? {} : { output: output.value }),
          }),
        );
      }
      return end(
        finishTerminalOrCurrent(ctx, exec, "completed", LIVE, {
          output: output === null ? null : output.value,
        }),
      );
    }
    case "failed": {
      const error: RunErrorShape = {
        code: outcome.error.code,
        message: exec.redactor.redact(outcome.error.message),
      };
      if (outcome.error.hint !== undefined) {
        error.hint = exec.redactor.redact(outcome.error.hint);
      }
      Object.assign(
        error,
        programErrorDetails(outcome.error, (text) => exec.redactor.redact(text)),
      );
      // A failed attempt the retry policy retries leaves no output: the next attempt decides.
      const next = await retryAfterFailure(ctx, exec, error);
      if (next === "retry") return { restart: true };
      if (next === "gone") return end(current(ctx, exec));
      if (next === "cancel") {
        return end(finishTerminalOrCurrent(ctx, exec, "cancelled", ["cancelling", ...LIVE], {}));
      }
      if (output !== null) exec.log.stamp({ kind: "output", value: output.value });
      return end(
        finishTerminalOrCurrent(ctx, exec, "failed", LIVE, {
          error,
          ...(output === null ? {} : { output: output.value }),
        }),
      );
    }
    case "budget":
      return end(
        finishTerminalOrCurrent(ctx, exec, "failed", LIVE, {
          error: { code: "BUDGET_EXCEEDED", message: outcome.reason },
        }),
      );
    case "crash": {
      const restarts = await exec.log.write("could not count the restart", () =>
        ctx.store.incrementRestarts(runId),
      );
      assertOpen(ctx);
      if (exec.cancelRequested) {
        // The cancel arrived while the restart was counted: it wins over the restart.
        return end(finishTerminalOrCurrent(ctx, exec, "cancelled", ["cancelling", "pending"], {}));
      }
      if (restarts > ctx.maxRestarts) {
        return end(
          finishTerminalOrCurrent(ctx, exec, "failed", LIVE, {
            error: {
              code: "CRASHED",
              message:
                `The run process died ${restarts} time${restarts === 1 ? "" : "s"} ` +
                `(last: ${outcome.detail}); restart budget exhausted.`,
              hint: `The program must settle without calling process.exit() or being killed; maxRestarts is ${ctx.maxRestarts}.`,
            },
          }),
        );
      }
      logRun(ctx, exec, `run process died (${outcome.detail}); restart ${restarts}`);
      exec.passReason = "crash_restart";
      if ((await writeStatus(ctx, exec, "pending", LIVE, { reason: "crash_restart" })) === null) {
        return end(current(ctx, exec));
      }
      return { restart: true };
    }
  }
}

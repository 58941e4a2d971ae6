/**
 * The workflow's retry policy (a manifest addition, off when absent): a pass whose program failed
 * with a code the policy retries, while attempts are left, does not end the run. The retry is
 * counted and its due time stored on the row (`scheduleRetry`), then a `pending` status with
 * reason `retry` carries the failed attempt's error on its event; the pass loop waits until the
 * due time and starts the next pass from the top. A run the engine finds with a stored due time
 * (an engine restart during the wait) waits out the rest and retries the same way. Budgets are
 * the run's own and span every attempt; codes that are deliberate outcomes never retry.
 */
import { isRetryableErrorCode, RETRYABLE_ERROR_CODES } from "@promenade/workflow/errors";
import { assertOpen, logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution } from "./execution.ts";
import { manifestOf } from "./internal/manifest.ts";
import type { ManifestView } from "./internal/manifest.ts";
import type { RunErrorShape, RunRow } from "./ports.ts";
import { LIVE, writeStatus } from "./transitions.ts";

type RetryPolicy = NonNullable<ManifestView["retry"]>;

/** The wait before retry number `retry` (1 for the first), in ms: grows by `factor`, capped. */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const backoff = policy.backoff;
  if (backoff === undefined) return 0;
  const factor = backoff.factor ?? 2;
  const seconds = backoff.initial_seconds * factor ** Math.max(0, retry - 1);
  const capped =
    backoff.max_seconds === undefined ? seconds : Math.min(seconds, backoff.max_seconds);
  return Math.round(Math.min(capped, 86_400) * 1000);
}

/** True when the policy retries `code` (its `retry_on`, default every retryable code). */
function retries(policy: RetryPolicy, code: string): boolean {
  if (!isRetryableErrorCode(code)) return false;
  const codes: readonly string[] = policy.retry_on ?? RETRYABLE_ERROR_CODES;
  return codes.includes(code);
}

/**
 * What follows a pass whose program failed with `error`: `"fail"` ends the run as before;
 * `"retry"`: the retry is stored and the run is `pending` again (reason `retry`, the error on its
 * event); `"cancel"`: a cancel arrived while the retry was stored; `"gone"`: someone else moved
 * the run meanwhile.
 */
export async function retryAfterFailure(
  ctx: SupervisorContext,
  exec: Execution,
  error: RunErrorShape,
): Promise<"fail" | "retry" | "cancel" | "gone"> {
  const policy = manifestOf(exec.workflow).retry;
  if (policy === undefined || !retries(policy, error.code)) return "fail";
  const attempt = exec.retries + 1;
  if (attempt >= policy.attempts) return "fail";
  const at = ctx.clock.now() + retryDelayMs(policy, attempt);
  exec.retries = await exec.log.write("could not schedule the retry", () =>
    ctx.store.scheduleRetry(exec.runId, at),
  );
  assertOpen(ctx);
  // A cancel that arrived while the retry was stored wins over it.
  if (exec.cancelRequested) return "cancel";
  exec.retryAt = at;
  exec.passReason = "retry";
  logRun(
    ctx,
    exec,
    `attempt ${attempt} of ${policy.attempts} failed (${error.code}); retrying in ${at - ctx.clock.now()} ms`,
  );
  const pending = await writeStatus(ctx, exec, "pending", LIVE, {
    reason: "retry",
    eventError: error,
  });
  return pending === null ? "gone" : "retry";
}

/** Where a supervision picks the retry state up: the row's count and any due time. */
export function resumeRetry(exec: Execution, initial: RunRow): void {
  exec.retries = initial.retries;
  exec.retryAt = initial.status === "queued" ? null : initial.retryAt;
}

/**
 * Waits until the due time of the retry the run waits for (at once when none is due or the time
 * has passed, sooner when `wakeAt` comes first), then clears the stored due time. A cancel or the
 * engine's shutdown ends the wait early (`exec.backoff`).
 */
export async function waitForRetry(
  ctx: SupervisorContext,
  exec: Execution,
  wakeAt: number | null,
): Promise<void> {
  const due = exec.retryAt;
  if (due === null) return;
  const until = wakeAt === null ? due : Math.min(due, wakeAt);
  const wait = until - ctx.clock.now();
  if (wait > 0 && !exec.cancelRequested) {
    const backoff = new AbortController();
    exec.backoff = backoff;
    try {
      await ctx.clock.sleep(wait, backoff.signal);
    } catch {
      // Woken by a cancel or the shutdown: the pass loop checks both next.
    } finally {
      exec.backoff = null;
    }
  }
  assertOpen(ctx);
  if (exec.cancelRequested) return;
  await exec.log.write("could not start the retry", () => ctx.store.clearRetry(exec.runId));
  exec.retryAt = null;
}

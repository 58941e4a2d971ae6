/**
 * Budgets: `max_duration_seconds` measured from the run's first start (it spans restarts),
 * `max_tokens` and `max_usd` checked on the tallies the store returns after each usage report.
 * A breach SIGKILLs the pass's process and keeps the first reason; nothing is breached once the
 * program has reported or the process has exited.
 */
import { andThen, attempt } from "@promenade/workflow/records";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass } from "./execution.ts";
import { manifestOf } from "./internal/manifest.ts";
import { safeKill } from "./internal/child-process.ts";

/** The reason of a duration breach. */
export function durationReason(seconds: number): string {
  return `Run exceeded budget.max_duration_seconds (${seconds}): it ran longer than ${seconds} s.`;
}

/** The run's deadline (epoch ms) for a first start at `startedAt`, or `null` without a budget. */
export function deadlineOf(exec: Execution, startedAt: number): number | null {
  const seconds = manifestOf(exec.workflow).budget?.max_duration_seconds;
  return seconds === undefined ? null : startedAt + seconds * 1000;
}

/** Breaches the duration budget of `pass` at `deadline` (on the injected clock). */
export function armDeadline(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  deadline: number,
): void {
  const maxSeconds = manifestOf(exec.workflow).budget?.max_duration_seconds ?? 0;
  ctx.clock.sleep(Math.max(0, deadline - ctx.clock.now()), pass.timers.signal).then(
    () => breachBudget(pass, durationReason(maxSeconds)),
    () => undefined,
  );
}

/** Ends `pass` for a budget breach (SIGKILL); the first reason wins. */
export function breachBudget(pass: Pass, reason: string): void {
  if (pass.report !== null || pass.budget !== null || pass.exited) return;
  pass.budget = reason;
  if (pass.child !== null) safeKill(pass.child, "SIGKILL");
}

/**
 * Adds one usage report to the run's tallies (in the run's write order, so the terminal row
 * includes every report of the pass) and enforces `max_tokens` / `max_usd` on the totals the
 * store returns. Reports arriving concurrently each see the totals after their own addition.
 */
export function reportUsage(
  ctx: SupervisorContext,
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
  const usdMicros = Math.max(0, Math.round(ctx.priceUsage(modelRef, priced)));
  const recorded = attempt(
    () =>
      exec.log.write("could not record usage", () =>
        ctx.store.addRunUsage(exec.runId, { tokensIn, tokensOut, usdMicros }),
      ),
    () => null, // the log recorded the failure and stopped the process
  );
  void andThen(recorded, (total) => {
    if (total === null || pass.budget !== null || pass.report !== null) return;
    const budget = manifestOf(exec.workflow).budget;
    if (budget === undefined) return;
    const tokens = total.tokensIn + total.tokensOut;
    if (budget.max_tokens !== undefined && tokens > budget.max_tokens) {
      breachBudget(
        pass,
        `Run exceeded budget.max_tokens (${budget.max_tokens}): ${tokens} tokens used.`,
      );
      return;
    }
    if (budget.max_usd !== undefined && total.usdMicros > budget.max_usd * 1_000_000) {
      breachBudget(
        pass,
        `Run exceeded budget.max_usd ($${budget.max_usd}, approximate rates): about $${(total.usdMicros / 1_000_000).toFixed(6)} spent.`,
      );
    }
  });
}

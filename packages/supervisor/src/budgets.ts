/**
 * Budgets: `max_duration_seconds` on the run's active time — the time its processes were alive,
 * summed over passes (`activeMs`, added after each pass; time between passes and engine downtime
 * are not counted) — and `deadline_seconds` on the wall clock since the first start (each pass
 * arms one timer at the sooner, which names the breach),
 * `max_tokens` and `max_usd` checked on the tallies the store returns after each priced model call
 * (or usage report).
 * A breach SIGKILLs the pass's process and keeps the first reason; nothing is breached once the
 * program has reported or the process has exited.
 */
import { andThen, attempt } from "@promenade/workflow/records";
import type { SupervisorContext } from "./context.ts";
import type { PricedUsage, UsageReport } from "./ports.ts";
import { stopPass } from "./execution.ts";
import type { Execution, Pass } from "./execution.ts";
import { manifestOf } from "./internal/manifest.ts";

/** The reason of a `max_duration_seconds` breach. */
export function durationReason(seconds: number): string {
  return `Run exceeded budget.max_duration_seconds (${seconds}): its processes ran longer than ${seconds} s in total.`;
}

/** The reason of a `deadline_seconds` breach. */
export function wallDeadlineReason(seconds: number): string {
  return `Run exceeded budget.deadline_seconds (${seconds}): ${seconds} s have passed since it first started.`;
}

/** When a run must end (epoch ms on the injected clock) and the reason recorded if it reaches it. */
export interface Deadline {
  at: number;
  reason: string;
}

/** Where a pass stands against the time budgets. */
export interface PassClock {
  /** Epoch ms of the run's first start. */
  startedAt: number;
  /** Epoch ms this pass starts. */
  passStart: number;
  /** The run's active time before this pass, in ms. */
  activeMs: number;
}

/**
 * The sooner of the pass's two deadlines (`max_duration_seconds` first on a tie), or `null`
 * without either budget: the active time left runs out `N × 1000 − activeMs` after the pass
 * starts; the wall-clock deadline is `deadline_seconds` after the first start.
 */
export function deadlineOf(exec: Execution, clock: PassClock): Deadline | null {
  const budget = manifestOf(exec.workflow).budget;
  const candidates: Deadline[] = [];
  const duration = budget?.max_duration_seconds;
  if (duration !== undefined) {
    candidates.push({
      at: clock.passStart + duration * 1000 - clock.activeMs,
      reason: durationReason(duration),
    });
  }
  const deadline = budget?.deadline_seconds;
  if (deadline !== undefined) {
    candidates.push({
      at: clock.startedAt + deadline * 1000,
      reason: wallDeadlineReason(deadline),
    });
  }
  let sooner: Deadline | null = null;
  for (const candidate of candidates) {
    if (sooner === null || candidate.at < sooner.at) sooner = candidate;
  }
  return sooner;
}

/** The wall-clock deadline (`deadline_seconds` after the first start `startedAt`), or `null`. */
export function wallDeadlineOf(exec: Execution, startedAt: number | null): number | null {
  const seconds = manifestOf(exec.workflow).budget?.deadline_seconds;
  return seconds === undefined || startedAt === null ? null : startedAt + seconds * 1000;
}

/** Breaches the budget of `pass` at `deadline` (on the injected clock): the pass's one timer. */
export function armDeadline(ctx: SupervisorContext, pass: Pass, deadline: Deadline): void {
  ctx.clock.sleep(Math.max(0, deadline.at - ctx.clock.now()), pass.timers.signal).then(
    () => breachBudget(pass, deadline.reason),
    () => undefined,
  );
}

/** Ends `pass` for a budget breach (SIGKILL); the first reason wins. */
export function breachBudget(pass: Pass, reason: string): void {
  if (pass.report !== null || pass.budget !== null || pass.exited) return;
  pass.budget = reason;
  stopPass(pass);
}

/** A price from `priceUsage`, clamped to integer micro-USD ≥ 0. */
function priceOf(
  ctx: SupervisorContext,
  modelRef: string,
  usage: UsageReport,
): { usdMicros: number; rate?: PricedUsage["rate"]; estimated?: boolean } {
  const priced = ctx.priceUsage(modelRef, usage);
  const clamp = (value: number): number =>
    Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
  if (typeof priced === "number") return { usdMicros: clamp(priced) };
  return { usdMicros: clamp(priced.usdMicros), rate: priced.rate, estimated: priced.estimated };
}

/** The token counts of a report, only the non-negative integers (what the event schema allows). */
function usageOf(value: unknown): UsageReport | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const out: UsageReport = {};
  for (const key of [
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheCreationTokens",
    "reasoningTokens",
  ] as const) {
    const n = (value as Record<string, unknown>)[key];
    if (typeof n === "number" && Number.isSafeInteger(n) && n >= 0) out[key] = n;
  }
  return out;
}

/**
 * Adds one usage report to the run's tallies (in the run's write order, so the terminal row
 * includes every report of the pass) and enforces `max_tokens` / `max_usd` on the totals the
 * store returns. Reports arriving concurrently each see the totals after their own addition.
 */
function tally(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  delta: { tokensIn: number; tokensOut: number; usdMicros: number },
): void {
  const recorded = attempt(
    () => exec.log.write("could not record usage", () => ctx.store.addRunUsage(exec.runId, delta)),
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

/** Prices one usage report of the run process and adds it to the run's tallies. */
export function reportUsage(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  modelRef: string,
  usage: UsageReport,
): void {
  if (exec.ended) return;
  const report = usageOf(usage) ?? {};
  tally(ctx, exec, pass, {
    tokensIn: report.inputTokens ?? 0,
    tokensOut: report.outputTokens ?? 0,
    usdMicros: priceOf(ctx, modelRef, report).usdMicros,
  });
}

/**
 * One `model_call` event of the run process: the call is priced here (whatever price the process
 * put on it is replaced), written to the event log with its price — the run's cost ledger — and
 * the same tokens and micro-USD are added to the run's tallies, after the event in write order.
 * A call without usage (a failed request) is written unpriced and counts nothing; an event the
 * log refuses (invalid) counts nothing either.
 */
export function recordModelCall(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  body: { kind: string } & Record<string, unknown>,
  turnId: string,
): void {
  const { usdMicros: _price, rate: _rate, estimated: _estimated, ...call } = body;
  const usage = call["usage"] === undefined ? undefined : usageOf(call["usage"]);
  let delta: { tokensIn: number; tokensOut: number; usdMicros: number } | null = null;
  if (usage !== undefined && !exec.ended) {
    const model = typeof call["model"] === "string" ? call["model"] : "";
    const priced = priceOf(ctx, model, usage);
    call["usdMicros"] = priced.usdMicros;
    if (priced.rate !== undefined) call["rate"] = { ...priced.rate };
    if (priced.estimated !== undefined) call["estimated"] = priced.estimated;
    delta = {
      tokensIn: usage.inputTokens ?? 0,
      tokensOut: usage.outputTokens ?? 0,
      usdMicros: priced.usdMicros,
    };
  }
  if (!exec.log.stamp(call, turnId) || delta === null) return;
  exec.log.flush();
  tally(ctx, exec, pass, delta);
}

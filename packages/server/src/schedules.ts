/**
 * The cron triggers of a workflow with their next fire instant, as the engine computes it (its
 * scheduler's cron evaluation: IANA zones, DST gaps and overlaps), so the workflow page shows the
 * instant the engine will fire, not an approximation.
 */
import type { EngineApi, WorkflowManifest } from "./ports.ts";

/** One cron trigger as the workflow detail serves it. */
export interface CronSchedule {
  /** Index in `manifest.triggers` (the trigger's identity). */
  trigger: number;
  expr: string;
  /** The IANA zone the expression is read in, as the trigger names it (`UTC` when it does not). */
  timezone: string;
  /**
   * Epoch ms of the next fire strictly after `now`; `null` when it never fires again or the
   * engine cannot tell.
   */
  nextFireAt: number | null;
}

/** The cron triggers of `manifest`, in trigger order, with their next fire after `now`. */
export function cronSchedules(
  engine: EngineApi,
  manifest: WorkflowManifest,
  now: number,
): CronSchedule[] {
  const out: CronSchedule[] = [];
  (manifest.triggers ?? []).forEach((trigger, index) => {
    if (trigger.kind !== "cron") return;
    let nextFireAt: number | null = null;
    try {
      nextFireAt = engine.nextCronFire?.(trigger.expr, trigger.timezone, now) ?? null;
    } catch {
      // A manifest is validated at deploy; an expression the engine refuses never fires.
    }
    out.push({
      trigger: index,
      expr: trigger.expr,
      timezone: trigger.timezone ?? "UTC",
      nextFireAt,
    });
  });
  return out;
}

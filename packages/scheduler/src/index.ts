/**
 * `@promenade/scheduler`: cron evaluation, exactly-once cron fires, catch-up and the dispatch
 * (concurrency) gate of Promenade. The only door in: named re-exports, nothing else.
 */
export { Scheduler } from "./scheduler.ts";
export type { SchedulerOptions } from "./scheduler.ts";
export { nextFire, parseSchedule } from "./cron.ts";
export type { Schedule } from "./cron.ts";
export type { CronFire, Dispatch, SchedulerStore } from "./ports.ts";

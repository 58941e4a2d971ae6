/**
 * `@promenade/workflow/testing`: helpers for the tests of every package. Today: the manual clock,
 * whose time only moves when the test says so.
 */
export { createManualClock } from "./manual-clock.ts";
export type { ManualClock } from "./manual-clock.ts";

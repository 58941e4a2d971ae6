/**
 * `@promenade/workflow/clock`: the `Clock` every package takes (epoch-ms `now()` and an abortable
 * `sleep`) and the wall clock that is the default. The manual clock for tests is in
 * `@promenade/workflow/testing`.
 */
export type { Clock } from "./clock.ts";
export { wallClock } from "./wall-clock.ts";

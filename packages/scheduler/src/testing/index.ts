/**
 * `@promenade/scheduler/testing`: shared test doubles — an in-memory `SchedulerStore`
 * (asynchronous like a network database, or synchronous like SQLite) and the
 * `describeSchedulerStore` contract suite (Vitest) that real stores run to prove they satisfy the
 * port.
 */
export { InMemorySchedulerStore } from "./in-memory-store.ts";
export type { CronFireRecord, InMemorySchedulerStoreOptions } from "./in-memory-store.ts";
export { describeSchedulerStore } from "./contract.ts";
export type {
  DeployWorkflowArgs,
  DescribeSchedulerStoreOptions,
  QueueRunArgs,
  SchedulerStoreUnderTest,
  StatusMove,
} from "./contract.ts";

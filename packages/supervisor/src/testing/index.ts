/**
 * `@promenade/supervisor/testing`: test doubles and the `SupervisorStore` contract suite, shared
 * so the fake and the real stores are checked by the same assertions.
 */
export { createInMemorySupervisorStore } from "./in-memory-store.ts";
export type {
  AddWorkflowArgs,
  InMemoryPeek,
  InMemorySupervisorStore,
  InMemorySupervisorStoreOptions,
  PeekRunsFilter,
} from "./in-memory-store.ts";
export { completeWith, createFakeLaunch, FakeChild } from "./fake-launch.ts";
export type { FakeLaunch } from "./fake-launch.ts";
export { describeSupervisorStore } from "./contract.ts";
export type { SupervisorStoreHarness } from "./contract.ts";

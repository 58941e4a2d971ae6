/**
 * `@promenade/store/testing`: shared test doubles and the store contract suite. Consumers
 * (supervisor, scheduler, engine, third parties) test against the real store on `:memory:` or a
 * temp dir instead of writing their own fakes, and run `describeStoreContract` against any
 * other implementation of the ports they declare.
 */
export {
  createManualClock,
  createMemoryStore,
  createTempStore,
  outputLineEvent,
  statusEvent,
  testManifest,
  textDeltaEvent,
} from "./fixtures.ts";
export type { ManualClock, TempStore } from "./fixtures.ts";
export { describeStoreContract } from "./contract.ts";
export type { StoreFactory } from "./contract.ts";

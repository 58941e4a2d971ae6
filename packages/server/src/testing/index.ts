/**
 * `@promenade/server/testing`: test doubles for code that talks to the server's `EngineApi`.
 * `createFakeEngine` is an in-memory engine for route, WebSocket and UI tests (see
 * `fake-engine.ts`).
 */
export { createFakeEngine } from "./fake-engine.ts";
export { fillAgentShapedRun } from "./agent-run.ts";
export type {
  FakeBehavior,
  FakeEngine,
  FakeEngineOptions,
  FakeManifest,
  FakeRunControl,
} from "./fake-engine.ts";

/**
 * `@promenade/supervisor`: runs each Promenade workflow run in its own Node process — lifecycle,
 * restarts, budgets, cancellation, the IPC host bridge. The only door in: named re-exports.
 * The run-process side lives at `@promenade/supervisor/child`; fakes and the store contract
 * suite at `@promenade/supervisor/testing`.
 */
export { RunSupervisor } from "./supervisor.ts";
export type { SupervisorOptions } from "./supervisor.ts";
export { isTerminal } from "./status.ts";
export { wallClock } from "./clock.ts";
export { createLaunch, defaultLaunch } from "./launch.ts";
export type { CreateLaunchOptions } from "./launch.ts";
export { defaultIdempotencyKey } from "./idempotency.ts";
export type {
  ArtifactRow,
  Clock,
  EventRow,
  HostMethod,
  HostMethodContext,
  InjectedHostMethodName,
  LaunchArgs,
  LaunchFunction,
  PriceUsage,
  RunErrorShape,
  RunRow,
  SupervisorStore,
  TriggerKind,
  UsageReport,
  WorkflowRow,
} from "./ports.ts";
export type {
  ChildMessage,
  HostMethodName,
  HostResultMessage,
  InitMessage,
  ParentMessage,
  WireError,
} from "./protocol.ts";

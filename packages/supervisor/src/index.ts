/**
 * `@promenade/supervisor`: runs each Promenade workflow run in its own Node process — lifecycle,
 * restarts, budgets, cancellation, the IPC host bridge. The only door in: named re-exports.
 * The run-process side lives at `@promenade/supervisor/child`; fakes and the store contract
 * suite at `@promenade/supervisor/testing`.
 */
export { RunSupervisor } from "./supervisor.ts";
export type { RecoveryReport, SuperviseOptions, SupervisorOptions } from "./supervisor.ts";
// The run-status vocabulary is owned by `@promenade/workflow/records`; re-exported for callers
// that imported it from here.
export { isTerminal } from "@promenade/workflow/records";
export { createLaunch, createSpawnerLaunch, defaultLaunch } from "./launch.ts";
export type { CreateLaunchOptions } from "./launch.ts";
export { defaultIdempotencyKey } from "./idempotency.ts";
export { answerLost, checkAnswerArguments, checkedAnswer } from "./answer-checks.ts";
export type {
  ArtifactRow,
  Awaitable,
  EventAppend,
  EventRow,
  HostMethod,
  HostMethodContext,
  HumanInputRequestRow,
  InjectedHostMethodName,
  InputSettlement,
  LaunchArgs,
  LaunchFunction,
  NewArtifact,
  NewInputRequest,
  NewRun,
  PriceUsage,
  PricedUsage,
  RunErrorShape,
  RunRow,
  RunsInStatus,
  RunStatus,
  RunUsage,
  StatusChange,
  SupervisorStore,
  TriggerKind,
  UsageDelta,
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

/**
 * `@promenade/engine`: the embeddable Promenade engine. The only door in: named re-exports,
 * nothing else. The run-process entry (`dist/run/child.js`) is not an import path.
 */
// First: on a Node.js below the floor, exit with one clear line before native code loads.
import "@promenade/workflow/node-guard";
export { Engine } from "./engine.ts";
export type {
  CloseGracefullyOptions,
  EngineDatabase,
  EngineOpenOptions,
  RunOnceArgs,
  StartReport,
} from "./engine.ts";
export type { StartRunOptions } from "./start-run.ts";
export type { WebhookDelivery } from "@promenade/store";
export type { AsyncStoreReader, StoreReader } from "./readers.ts";
export type { EngineOptions } from "./options.ts";
export type { ClusterHealth } from "./cluster.ts";
export type { DeployArgs } from "./deploy.ts";
export { parseRetentionPolicy } from "./retention-policy.ts";
export type { RetentionPolicy } from "./retention-policy.ts";
export type { RetentionReport, RetentionStats } from "./retention-sweep.ts";
export type { DirDeployOptions, DirDeployReport } from "./workflows-dir.ts";
export type { AuthorizeMcpServerOptions } from "./authorize.ts";
export type { InferenceConfig } from "./agent-plug.ts";
export { isTerminal } from "@promenade/workflow/records";
/** The scheduler's cron evaluation (the instants the engine fires cron triggers at). */
export { nextFire, parseSchedule } from "@promenade/scheduler";
export type { Schedule } from "@promenade/scheduler";
export {
  ENGINE_ERROR_CODES,
  EngineError,
  isEngineError,
  isEngineErrorCode,
  toErrorShape,
} from "@promenade/workflow/errors";
export type { EngineErrorCode, ErrorShape } from "@promenade/workflow/errors";
export type {
  ArtifactRow,
  EventRow,
  HumanInputRequestRow,
  HumanInputStatus,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  PublishedEvent,
  RunErrorShape,
  RunRow,
  RunStatus,
  TriggerKind,
  WorkflowRow,
} from "@promenade/workflow/records";

/**
 * `@promenade/store`: Promenade's durable state on SQLite. The only door in: named re-exports,
 * nothing else. Consumers that only need the shapes `import type` from here and never load
 * SQLite (row shapes themselves are owned by `@promenade/workflow/records`).
 */
// First: on a Node.js below the floor, exit with one clear line before native code loads.
import "@promenade/workflow/node-guard";
export { openStore } from "./open.ts";
export type { OpenStoreOptions } from "./open.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";
export type {
  ArtifactRow,
  AsyncStore,
  Awaitable,
  CreateArtifactArgs,
  CreateInputRequestArgs,
  CreateRunArgs,
  CronFireArgs,
  CronFireRow,
  EventAppend,
  EventListener,
  EventRow,
  FireCronArgs,
  HumanInputRequestRow,
  HumanInputStatus,
  InputRequestSettlement,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  ListWorkflowsOptions,
  PublishedEvent,
  PruneCursor,
  PrunedRun,
  PruneRunsArgs,
  PruneRunsResult,
  PrunedVersion,
  PruneVersionsArgs,
  PruneVersionsResult,
  RequestKey,
  RunErrorShape,
  RunRow,
  RunUsage,
  RunUsageDelta,
  StatusChange,
  Store,
  StoreReader,
  TriggerKind,
  UpdateRunStatusOptions,
  UpsertWorkflowArgs,
  WebhookDelivery,
  WorkflowRow,
} from "./types.ts";
export type { WorkflowManifest } from "./internal/sdk.ts";

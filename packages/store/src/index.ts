/**
 * `@promenade/store`: Promenade's durable state on SQLite (spec 02 §4). The only door in:
 * named re-exports, nothing else. Consumers that only need the shapes `import type` from here
 * and never load SQLite.
 */
// First: on a Node.js below the floor, exit with one clear line before native code loads.
import "@promenade/workflow/node-guard";
export { openStore } from "./store.ts";
export type { OpenStoreOptions } from "./store.ts";
export { MIGRATIONS } from "./migrations.ts";
export type { Migration } from "./migrations.ts";
export type {
  ArtifactRow,
  CreateArtifactArgs,
  CreateRunArgs,
  CronFireArgs,
  EventAppend,
  EventRow,
  ListEventsOptions,
  ListRunsFilter,
  RunErrorShape,
  RunRow,
  RunUsage,
  RunUsageDelta,
  Store,
  StoreReader,
  TriggerKind,
  UpdateRunStatusOptions,
  UpsertWorkflowArgs,
  WorkflowRow,
} from "./types.ts";
export type { WorkflowManifest } from "./internal/sdk.ts";

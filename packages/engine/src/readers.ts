/**
 * The engine's two read-only views of its store: `engine.store` (synchronous, the Boardwalk
 * surface, SQLite only) and `engine.storeAsync` (promises, either backend). Both check that the
 * engine is open on every call. On PostgreSQL every synchronous read throws `UNSUPPORTED` naming
 * the promise-returning call to make instead.
 */
import type { AsyncStore, Store } from "@promenade/store";
import { EngineError } from "@promenade/workflow/errors";
import type {
  ArtifactRow,
  EventRow,
  ListEventsOptions,
  ListRunsFilter,
  RunRow,
  WorkflowRow,
  WorkflowVersionRow,
  WorkflowVersionSummary,
} from "@promenade/workflow/records";

/**
 * The read side of the store, synchronous: what `engine.store` exposes. Lookups return
 * `null`/`[]` for unknown ids; malformed arguments throw `VALIDATION`.
 */
export interface StoreReader {
  /** The workflow deployed under `slug`, or `null` (also once undeployed). */
  getWorkflow(slug: string): WorkflowRow | null;
  /** The workflow with this id, deployed or undeployed (`undeployedAt` set), or `null`. */
  getWorkflowById(id: string): WorkflowRow | null;
  /** Every deployed workflow, by slug ascending. */
  listWorkflows(): WorkflowRow[];
  /** The workflow's versions without their content, newest first; `[]` for an unknown id. */
  listWorkflowVersions(workflowId: string): WorkflowVersionSummary[];
  /** The workflow's version with this number, with its content, or `null`. */
  getWorkflowVersion(workflowId: string, version: number): WorkflowVersionRow | null;
  /** The run, or `null`. */
  getRun(id: string): RunRow | null;
  /** Runs matching `filter`, newest first by default, paged by index. */
  listRuns(filter?: ListRunsFilter): RunRow[];
  /** Events with `cursor > afterCursor`, ascending; `[]` for an unknown run. */
  listEvents(runId: string, options?: ListEventsOptions): EventRow[];
  /** The run's highest cursor, `0` when it has no events (or is unknown). */
  maxCursor(runId: string): number;
  /** The run's artifacts in creation order. */
  listArtifacts(runId: string): ArtifactRow[];
}

/** The read side of the store with promises: what `engine.storeAsync` exposes. */
export interface AsyncStoreReader {
  /** The workflow deployed under `slug`, or `null` (also once undeployed). */
  getWorkflow(slug: string): Promise<WorkflowRow | null>;
  /** The workflow with this id, deployed or undeployed (`undeployedAt` set), or `null`. */
  getWorkflowById(id: string): Promise<WorkflowRow | null>;
  /** Every deployed workflow, by slug ascending. */
  listWorkflows(): Promise<WorkflowRow[]>;
  /** The workflow's versions without their content, newest first; `[]` for an unknown id. */
  listWorkflowVersions(workflowId: string): Promise<WorkflowVersionSummary[]>;
  /** The workflow's version with this number, with its content, or `null`. */
  getWorkflowVersion(workflowId: string, version: number): Promise<WorkflowVersionRow | null>;
  /** The run, or `null`. */
  getRun(id: string): Promise<RunRow | null>;
  /** Runs matching `filter`, newest first by default, paged by index. */
  listRuns(filter?: ListRunsFilter): Promise<RunRow[]>;
  /** Events with `cursor > afterCursor`, ascending; `[]` for an unknown run. */
  listEvents(runId: string, options?: ListEventsOptions): Promise<EventRow[]>;
  /** The run's highest cursor, `0` when it has no events (or is unknown). */
  maxCursor(runId: string): Promise<number>;
  /** The run's artifacts in creation order. */
  listArtifacts(runId: string): Promise<ArtifactRow[]>;
}

const READ_METHODS = [
  "getWorkflow",
  "getWorkflowById",
  "listWorkflows",
  "listWorkflowVersions",
  "getWorkflowVersion",
  "getRun",
  "listRuns",
  "listEvents",
  "maxCursor",
  "listArtifacts",
] as const satisfies readonly (keyof StoreReader & keyof AsyncStoreReader)[];

/** `engine.store` over the SQLite store: each read runs after `assertOpen()`. */
export function syncReader(store: Store, assertOpen: () => void): StoreReader {
  return {
    getWorkflow: (slug) => (assertOpen(), store.getWorkflow(slug)),
    getWorkflowById: (id) => (assertOpen(), store.getWorkflowById(id)),
    listWorkflows: () => (assertOpen(), store.listWorkflows()),
    listWorkflowVersions: (workflowId) => (assertOpen(), store.listWorkflowVersions(workflowId)),
    getWorkflowVersion: (workflowId, version) => (
      assertOpen(),
      store.getWorkflowVersion(workflowId, version)
    ),
    getRun: (id) => (assertOpen(), store.getRun(id)),
    listRuns: (filter) => (assertOpen(), store.listRuns(filter)),
    listEvents: (runId, options) => (assertOpen(), store.listEvents(runId, options)),
    maxCursor: (runId) => (assertOpen(), store.maxCursor(runId)),
    listArtifacts: (runId) => (assertOpen(), store.listArtifacts(runId)),
  };
}

/** `engine.store` on PostgreSQL: every read throws `UNSUPPORTED` (after `assertOpen()`). */
export function unsupportedReader(assertOpen: () => void): StoreReader {
  const refuse = (method: string) => (): never => {
    assertOpen();
    throw unsupported(`engine.store.${method}()`, `await engine.storeAsync.${method}(…)`);
  };
  const reader: Record<string, () => never> = {};
  for (const method of READ_METHODS) reader[method] = refuse(method);
  return reader as unknown as StoreReader;
}

/** `engine.storeAsync`: each read rejects (never throws) `INTERNAL` "closed" after close. */
export function asyncReader(store: AsyncStore, assertOpen: () => void): AsyncStoreReader {
  const guarded =
    <A extends unknown[], T>(read: (...args: A) => T | Promise<T>) =>
    async (...args: A): Promise<T> => {
      assertOpen();
      return read(...args);
    };
  return {
    getWorkflow: guarded((slug: string) => store.getWorkflow(slug)),
    getWorkflowById: guarded((id: string) => store.getWorkflowById(id)),
    listWorkflows: guarded(() => store.listWorkflows()),
    listWorkflowVersions: guarded((workflowId: string) => store.listWorkflowVersions(workflowId)),
    getWorkflowVersion: guarded((workflowId: string, version: number) =>
      store.getWorkflowVersion(workflowId, version),
    ),
    getRun: guarded((id: string) => store.getRun(id)),
    listRuns: guarded((filter?: ListRunsFilter) => store.listRuns(filter)),
    listEvents: guarded((runId: string, options?: ListEventsOptions) =>
      store.listEvents(runId, options),
    ),
    maxCursor: guarded((runId: string) => store.maxCursor(runId)),
    listArtifacts: guarded((runId: string) => store.listArtifacts(runId)),
  };
}

/** The `UNSUPPORTED` error of a synchronous call on an engine whose database is asynchronous. */
export function unsupported(call: string, instead: string): EngineError {
  return new EngineError(
    "UNSUPPORTED",
    `${call} is synchronous and needs the SQLite database; this engine runs on PostgreSQL. Call ${instead} instead.`,
    "The synchronous methods (deployWorkflow, startRun, tick, start, ping, engine.store) need an engine on SQLite; their promise-returning equivalents work on both databases.",
  );
}

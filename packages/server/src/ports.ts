/**
 * What the server needs from an engine (spec 04 §0.2), in the server's own words. Structural:
 * the real `Engine` (through a plain adapter in `apps/server`) and the fake in `./testing` both
 * satisfy it. Row shapes are the store's (spec 02 §3.6) and event shapes the SDK's, imported as
 * types only: nothing here loads engine, store or supervisor code at run time.
 */
import type {
  ArtifactRow,
  EventRow,
  RunErrorShape,
  RunRow,
  TriggerKind,
  WorkflowRow,
} from "@promenade/store";
import type { JsonValue, RunEvent, RunStatus, WorkflowManifest } from "@promenade/workflow";

export type {
  ArtifactRow,
  EventRow,
  JsonValue,
  RunErrorShape,
  RunEvent,
  RunRow,
  RunStatus,
  TriggerKind,
  WorkflowManifest,
  WorkflowRow,
};

/** A manifest trigger (spec 01 §4.3); its index in `triggers` is its identity. */
export type Trigger = NonNullable<WorkflowManifest["triggers"]>[number];

/** Run-list query (spec 02 §4.7): newest first. */
export interface ListRunsQuery {
  workflowId?: string;
  statuses?: RunStatus[];
  /** Only the `workflows.call`/`run` children of this run. */
  parentRunId?: string;
  limit: number;
  offset?: number;
  beforeRunId?: string;
}

/**
 * The engine surface the routes, webhooks and WebSocket channel call. `onEvent` listeners must
 * run synchronously after the event row is committed, per run in increasing cursor order, and a
 * terminal `run_status` must be the last event of its run (spec 04 §0.2).
 */
export interface EngineApi {
  /** Ordered by slug ascending. */
  listWorkflows(): WorkflowRow[];
  getWorkflow(slug: string): WorkflowRow | null;
  getWorkflowById(id: string): WorkflowRow | null;
  /** Upsert by the program's `meta` slug; throws `VALIDATION` on a bad program. */
  deployWorkflow(args: {
    program: string;
    skills?: Record<string, string>;
    config?: Record<string, JsonValue>;
  }): WorkflowRow;
  /** Throws `NOT_FOUND` for an unknown slug; returns the row as created (`queued`). */
  startRun(slug: string, options: { input?: JsonValue; triggerKind: "manual" | "webhook" }): RunRow;
  /** Resolves once the run is terminal; no-op on terminal runs. */
  cancelRun(runId: string): Promise<void>;
  getRun(runId: string): RunRow | null;
  listRuns(query: ListRunsQuery): RunRow[];
  /** Cursor ascending, `cursor > afterCursor`, at most `limit` rows. */
  listEvents(runId: string, query: { afterCursor: number; limit: number }): EventRow[];
  /** 0 when the run has no events. */
  maxCursor(runId: string): number;
  listArtifacts(runId: string): ArtifactRow[];
  /** Absolute path of the run's artifacts directory (no I/O). */
  artifactsDir(runId: string): string;
  /** Trivial DB read; throws when unhealthy. */
  ping(): void;
  /** Returns the unsubscribe function. */
  onEvent(listener: (row: EventRow) => void): () => void;
}

/** Options of the interactive MCP OAuth grant (spec 03 §8.4). */
export interface AuthorizeMcpServerOptions {
  onAuthorizationUrl(url: string): void;
  timeoutMs?: number;
}

/** `Engine.authorizeMcpServer`: resolves once the grant is stored. */
export type AuthorizeMcpServer = (
  serverUrl: string,
  options: AuthorizeMcpServerOptions,
) => Promise<void>;

/**
 * What the server needs from an engine (spec 04 §0.2), in the server's own words. Structural:
 * the real `Engine` (through a plain adapter in `apps/server`) and the fake in `./testing` both
 * satisfy it; nothing here imports engine, store or supervisor values. Row shapes mirror spec 02
 * §3.6 and are declared here so the server compiles against the contract, not an implementation.
 */

/** Any JSON value. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The seven run statuses (spec 02 §2.3); `completed|failed|cancelled` are terminal. */
export type RunStatus =
  "queued" | "pending" | "running" | "completed" | "failed" | "cancelled" | "cancelling";

/** How a run was started. */
export type TriggerKind = "manual" | "webhook" | "cron";

/** A manifest trigger (spec 01 §4.3); its index in `triggers` is its identity. */
export type Trigger =
  | { kind: "cron"; expr: string; timezone?: string }
  | { kind: "webhook"; auth: "token" | "signature" }
  | { kind: "manual" };

/** The parts of a validated manifest the server reads; everything else is passed through. */
export interface WorkflowManifest {
  slug: string;
  title?: string | undefined;
  description?: string | undefined;
  triggers?: Trigger[] | undefined;
  [key: string]: unknown;
}

/** A deployed workflow (spec 02 §3.6). `program` is never sent to clients. */
export interface WorkflowRow {
  id: string;
  slug: string;
  name: string;
  title: string | null;
  manifest: WorkflowManifest;
  program: string;
  config: Record<string, JsonValue>;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
}

/** `{ code, message }` of a failed run. */
export interface RunErrorShape {
  code: string;
  message: string;
}

/** One run (spec 02 §3.6). */
export interface RunRow {
  id: string;
  workflowId: string;
  status: RunStatus;
  triggerKind: TriggerKind;
  input: unknown;
  output: JsonValue | null;
  error: RunErrorShape | null;
  parentRunId: string | null;
  idempotencyKey: string | null;
  restarts: number;
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
  /** Epoch ms. */
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

/**
 * One stored run event. `event` is the SDK wire-format `RunEvent` (spec 01 §5): an envelope
 * (`runId`, `turnId`, `seq`, `t`) plus the kind's fields. The server only reads `kind`,
 * `status` and `error`, so it is typed loosely here.
 */
export interface RunEventLike {
  kind: string;
  runId: string;
  turnId: string;
  seq: number;
  t: number;
  [key: string]: unknown;
}

/** `{ runId, cursor, event }`: cursors are run-global and strictly increasing. */
export interface EventRow {
  runId: string;
  cursor: number;
  event: RunEventLike;
}

/** A stored artifact; `path` is absolute and never leaves the server. */
export interface ArtifactRow {
  id: string;
  runId: string;
  name: string;
  contentType: string;
  path: string;
  /** Bytes. */
  size: number;
  metadata: Record<string, unknown> | null;
  /** Epoch ms. */
  createdAt: number;
}

/** Run-list query (spec 02 §4.7): newest first. */
export interface ListRunsQuery {
  workflowId?: string;
  statuses?: RunStatus[];
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

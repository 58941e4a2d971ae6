/**
 * What the server needs from an engine, in the server's own words. Structural: the real `Engine`
 * (through a plain adapter in `apps/server`) and the fake in `./testing` both satisfy it. Row
 * shapes come from `@promenade/workflow/records` and event shapes from the SDK, imported as types
 * only: nothing here loads engine, store or supervisor code at run time.
 */
import type { JsonValue, RunEvent, WorkflowManifest } from "@promenade/workflow";
import type {
  ArtifactRow,
  Awaitable,
  EventRow,
  HumanInputRequestRow,
  HumanInputStatus,
  PublishedEvent,
  RunErrorShape,
  RunRow,
  RunStatus,
  TriggerKind,
  WorkflowRow,
  WorkflowVersionSummary,
} from "@promenade/workflow/records";

export type {
  ArtifactRow,
  Awaitable,
  EventRow,
  HumanInputRequestRow,
  HumanInputStatus,
  JsonValue,
  PublishedEvent,
  RunErrorShape,
  RunEvent,
  RunRow,
  RunStatus,
  TriggerKind,
  WorkflowManifest,
  WorkflowRow,
  WorkflowVersionSummary,
};

/** A manifest trigger; its index in `triggers` is its identity. */
export type Trigger = NonNullable<WorkflowManifest["triggers"]>[number];

/** Run-list query: newest first. */
export interface ListRunsQuery {
  workflowId?: string;
  statuses?: readonly RunStatus[];
  /** Only the `workflows.call`/`run` children of this run. */
  parentRunId?: string;
  limit: number;
  offset?: number;
  beforeRunId?: string;
  /** Only runs created at or after this instant (epoch ms). */
  createdSince?: number;
  /** Only runs created strictly before this instant (epoch ms). */
  createdBefore?: number;
}

/** Options of {@link EngineApi.startRunOnce}. */
export interface StartRunOnceOptions {
  input?: JsonValue;
  triggerKind: "manual" | "webhook";
  /** The workflow version to run; default the current one. An unknown number fails `NOT_FOUND`. */
  version?: number;
  /**
   * A client's retry key (the `Idempotency-Key` header) and a fingerprint of the request, scoped
   * to the workflow: for 24 hours the same key and fingerprint answer the run the first request
   * created, as it is now, with `created: false`; another fingerprint fails `CONFLICT`.
   */
  requestKey?: { key: string; fingerprint: string };
  /** A verified webhook delivery: `CONFLICT` while any of its keys is remembered. */
  delivery?: RunDelivery;
}

/**
 * A verified webhook delivery, remembered durably with the run it starts: while any of its keys
 * is remembered (until `expiresAt`, epoch ms) for the workflow's webhook `hookIndex`, a delivery
 * carrying it fails `CONFLICT` ("Webhook delivery "<id>" was already received at <time> (run
 * <id>).").
 */
export interface RunDelivery {
  hookIndex: number;
  /** What identifies the delivery (hashes of its signature and of its delivery id). */
  keys: string[];
  /** The sender's delivery id, or `null`. */
  deliveryId: string | null;
  expiresAt: number;
}

/**
 * The engine surface the routes, webhooks and WebSocket channel call. Every method that reaches
 * the database may answer with a value (an engine on SQLite) or a promise (PostgreSQL); the server
 * awaits each. A failure is a thrown or rejected `EngineError`: `NOT_FOUND`, `VALIDATION`,
 * `CONFLICT` and `UNSUPPORTED` reach clients as such, anything else (a database outage is
 * `INTERNAL`) is an opaque 500 and a log line.
 *
 * `onEvent` listeners receive every committed event with its run's workflow id and slug, after the
 * commit, per run in strictly increasing cursor order; a terminal `run_status` is the last event
 * of its run. They may be called in the committing turn or a later one.
 */
export interface EngineApi {
  /** Ordered by slug ascending. */
  listWorkflows(): Awaitable<WorkflowRow[]>;
  getWorkflow(slug: string): Awaitable<WorkflowRow | null>;
  getWorkflowById(id: string): Awaitable<WorkflowRow | null>;
  /**
   * The workflow's versions (every deploy that changed its content), newest first; `[]` for an
   * unknown id.
   */
  listWorkflowVersions(workflowId: string): Awaitable<WorkflowVersionSummary[]>;
  /** Upsert by the program's `meta` slug; fails `VALIDATION` on a bad program. */
  deployWorkflow(args: {
    program: string;
    skills?: Record<string, string>;
    config?: Record<string, JsonValue>;
  }): Awaitable<WorkflowRow>;
  /**
   * Undeploys the workflow deployed under `slug` and answers its row (`undeployedAt` set): it is
   * no longer listed nor read by slug, starts no new run and fires no cron; its runs stay
   * readable. Fails `NOT_FOUND` when no workflow is deployed under `slug`. Optional: without it
   * `DELETE /api/workflows/:slug` answers 400 `UNSUPPORTED`.
   */
  undeployWorkflow?(slug: string): Awaitable<WorkflowRow>;
  /**
   * Fails `NOT_FOUND` for an unknown slug or version; answers the row as created (`queued`), on
   * `version` or else the workflow's current version.
   */
  startRun(
    slug: string,
    options: { input?: JsonValue; triggerKind: "manual" | "webhook"; version?: number },
  ): Awaitable<RunRow>;
  /**
   * `startRun` under a client's retry key and/or for a verified webhook delivery (see
   * {@link StartRunOnceOptions}), answering whether this call created the run. The key and the
   * delivery are written in the transaction that creates the run.
   */
  startRunOnce(
    slug: string,
    options: StartRunOnceOptions,
  ): Awaitable<{ run: RunRow; created: boolean }>;
  /** Settles once the run is terminal; no-op on terminal runs. */
  cancelRun(runId: string): Awaitable<void>;
  getRun(runId: string): Awaitable<RunRow | null>;
  listRuns(query: ListRunsQuery): Awaitable<RunRow[]>;
  /** Cursor ascending, `cursor > afterCursor`, at most `limit` rows. */
  listEvents(runId: string, query: { afterCursor: number; limit: number }): Awaitable<EventRow[]>;
  /** 0 when the run has no events. */
  maxCursor(runId: string): Awaitable<number>;
  listArtifacts(runId: string): Awaitable<ArtifactRow[]>;
  /** Absolute path of the run's artifacts directory (no I/O). */
  artifactsDir(runId: string): string;
  /** One trivial database read; fails (`INTERNAL`) while the database cannot be reached. */
  ping(): Awaitable<void>;
  /** Human-input requests, newest first; `runId` and `statuses` combine with AND. */
  listInputRequests(filter: {
    runId?: string;
    statuses?: readonly HumanInputStatus[];
  }): Awaitable<HumanInputRequestRow[]>;
  /**
   * Answers a pending human-input request; the resolved row. Fails `NOT_FOUND` (unknown run, no
   * pending request with `key`), `VALIDATION` (the answer does not fit the gate's form; the
   * request stays pending) or `CONFLICT` (another answer won).
   */
  respondToInput(
    runId: string,
    key: string,
    value: unknown,
    options: { respondedBy?: string },
  ): Awaitable<HumanInputRequestRow>;
  /** Subscribe to the event feed. Returns the unsubscribe function. */
  onEvent(listener: (row: PublishedEvent) => void): () => void;
  /**
   * The next instant (epoch ms) strictly after `afterMs` at which the engine fires a cron trigger
   * `expr` read in `timezone` (`undefined`: UTC), or `null` when it never fires again. Optional:
   * without it the workflow detail shows no next fire (`nextFireAt: null`).
   */
  nextCronFire?(expr: string, timezone: string | undefined, afterMs: number): number | null;
  /**
   * Writes a consistent online copy of the database to `file` (which must not exist); resolves
   * with its absolute path. Optional: without it `POST /api/admin/backup` answers 400
   * `UNSUPPORTED`. A database the engine cannot copy (PostgreSQL) fails `UNSUPPORTED` with a hint.
   */
  backup?(file: string): Awaitable<string>;
  /**
   * Retention counters for `/metrics` (sweeps, runs and old workflow versions deleted so far).
   * Optional.
   */
  retentionStats?(): { sweeps: number; runsDeleted: number; versionsDeleted?: number };
  /**
   * In a cluster: this node's id, the runs it holds and its lease health, for `/healthz` and
   * `/metrics`; `null` (or absent) outside a cluster.
   */
  cluster?(): ClusterNodeState | null;
}

/** A cluster node's state as `/healthz` and `/metrics` report it. */
export interface ClusterNodeState {
  nodeId: string;
  leaseMs: number;
  heldRuns: number;
  /** Ms since the database last confirmed the node's heartbeat; `null` before the first. */
  lastHeartbeatAgeMs: number | null;
  leaseHealthy: boolean;
  draining: boolean;
}

/** Options of the interactive MCP OAuth grant. */
export interface AuthorizeMcpServerOptions {
  onAuthorizationUrl(url: string): void;
  timeoutMs?: number;
}

/** `Engine.authorizeMcpServer`: resolves once the grant is stored. */
export type AuthorizeMcpServer = (
  serverUrl: string,
  options: AuthorizeMcpServerOptions,
) => Promise<void>;

/**
 * The public shapes of the store: row types (spec 02 §3.6), argument shapes, and the `Store` /
 * `StoreReader` interfaces (spec 02 §4.6) that supervisor, scheduler and engine pick their ports
 * from. Types only: no values, so consumers can `import type` them without loading SQLite.
 */
import type { Channel, JsonValue, RunEvent, RunStatus, WorkflowManifest } from "./internal/sdk.ts";

/** How a run was started. `workflows.call`/`run` children use `"manual"` plus a `parentRunId`. */
export type TriggerKind = "cron" | "manual" | "webhook";

/** A run's error as stored on the row: `{ code, message, hint? }`. */
export interface RunErrorShape {
  code: string;
  message: string;
  hint?: string;
}

/** A deployed workflow. `id` and `createdAt` are stable across redeploys of the same slug. */
export interface WorkflowRow {
  /** ULID. */
  id: string;
  /** Canonical identity (manifest `slug`). */
  slug: string;
  /** Same value as `slug`, kept for Boardwalk-style embedders that read `.name`. */
  name: string;
  /** Manifest `title`, or `null`. */
  title: string | null;
  manifest: WorkflowManifest;
  /** The bundled ESM program source. */
  program: string;
  /** Deploy config, `{}` by default. */
  config: Record<string, JsonValue>;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the latest deploy. */
  updatedAt: number;
}

/** One run of a workflow. */
export interface RunRow {
  /** ULID. */
  id: string;
  workflowId: string;
  status: RunStatus;
  triggerKind: TriggerKind;
  /** The run input; `null` when none was supplied. */
  input: unknown;
  /** The declared output; `null` when never declared. */
  output: JsonValue | null;
  /** Set on `failed` only. */
  error: RunErrorShape | null;
  /** Set for `workflows.call`/`run` children. */
  parentRunId: string | null;
  idempotencyKey: string | null;
  /** Crashed passes counted; engine restarts do not count. */
  restarts: number;
  /** Cumulative input tokens over all passes. */
  tokensIn: number;
  /** Cumulative output tokens over all passes. */
  tokensOut: number;
  /** Cumulative approximate cost in integer micro-USD. */
  usdMicros: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the start of the first pass; never reset once set. */
  startedAt: number | null;
  /** Epoch ms, set with the terminal status. */
  endedAt: number | null;
}

/** One persisted run event; the cursor travels beside the event, never inside it. */
export interface EventRow {
  runId: string;
  cursor: number;
  event: RunEvent;
}

/** A file a run wrote through `artifacts.write`. */
export interface ArtifactRow {
  /** ULID. */
  id: string;
  runId: string;
  /** Plain file name. */
  name: string;
  contentType: string;
  /** Absolute path of the bytes on disk (the bytes are never stored in SQLite). */
  path: string;
  /** Bytes. */
  size: number;
  metadata: Record<string, unknown> | null;
  /** Epoch ms. */
  createdAt: number;
}

/** Cumulative usage of a run. */
export interface RunUsage {
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
}

/** Filter and paging for {@link StoreReader.listRuns}. Every field is optional. */
export interface ListRunsFilter {
  workflowId?: string;
  /** Only runs in one of these statuses; `[]` matches nothing. */
  statuses?: readonly RunStatus[];
  parentRunId?: string;
  /** `"newest"` (default): `created_at DESC, rowid DESC`; `"oldest"` reverses both. */
  order?: "newest" | "oldest";
  /** Page size (integer ≥ 0); all matching rows when absent. */
  limit?: number;
  /** Rows to skip (integer ≥ 0); cannot be combined with `beforeRunId`. */
  offset?: number;
  /** Keyset paging: only rows strictly after this run in the chosen order. */
  beforeRunId?: string;
}

/** Paging and filtering for {@link StoreReader.listEvents}. */
export interface ListEventsOptions {
  /** Only events with `cursor > afterCursor` (integer ≥ 0, default 0). */
  afterCursor?: number;
  /** Page size (integer ≥ 0); all matching events when absent. */
  limit?: number;
  /**
   * Only events of these channels (spec 01 §5.7); all channels when absent. Served from an
   * index, so a sparse channel of a huge run pages as fast as the full stream.
   */
  channels?: readonly Channel[];
}

/** Arguments of {@link Store.upsertWorkflow}. */
export interface UpsertWorkflowArgs {
  slug: string;
  manifest: WorkflowManifest;
  program: string;
  /** Replaced wholesale; `{}` when absent. */
  config?: Record<string, JsonValue>;
}

/** Arguments of {@link Store.createRun}. */
export interface CreateRunArgs {
  workflowId: string;
  triggerKind: TriggerKind;
  /** Stored as `null` when absent. */
  input?: JsonValue;
  parentRunId?: string;
  /** Find-or-create on `(parentRunId ?? NULL, idempotencyKey)`. */
  idempotencyKey?: string;
}

/** Optional fields of {@link Store.updateRunStatus}, written in the same statement. */
export interface UpdateRunStatusOptions {
  output?: JsonValue;
  error?: RunErrorShape;
  /** Only applied while the row has no `startedAt` (the first pass wins). */
  startedAt?: number;
  endedAt?: number;
  /** Apply only when the current status is one of these. */
  expect?: readonly RunStatus[];
}

/** Increments for {@link Store.addRunUsage}; each a non-negative integer. */
export interface RunUsageDelta {
  tokensIn?: number;
  tokensOut?: number;
  usdMicros?: number;
}

/** One event to append: its cursor (integer ≥ 1) and the stamped event. */
export interface EventAppend {
  cursor: number;
  event: RunEvent;
}

/** Arguments of {@link Store.recordCronFire}. */
export interface CronFireArgs {
  workflowId: string;
  /** Zero-based index in `manifest.triggers`. */
  triggerIndex: number;
  /** The scheduled instant (epoch ms), not when it ran. */
  fireTime: number;
  runId: string;
}

/** Arguments of {@link Store.createArtifact}. */
export interface CreateArtifactArgs {
  runId: string;
  name: string;
  contentType: string;
  /** Absolute path of the bytes on disk. */
  path: string;
  /** Bytes, integer ≥ 0. */
  size: number;
  metadata?: Record<string, unknown>;
}

/**
 * The read side of the store (what `engine.store` exposes). Every method is synchronous.
 * Lookups return `null`/`[]` for unknown ids; malformed arguments throw `VALIDATION`; a row
 * that fails its read validator throws `INTERNAL` naming `<table>.<column>`.
 */
export interface StoreReader {
  /** The workflow deployed under `slug`, or `null`. */
  getWorkflow(slug: string): WorkflowRow | null;
  /** The workflow with this id, or `null`. */
  getWorkflowById(id: string): WorkflowRow | null;
  /** Every workflow, by slug ascending. */
  listWorkflows(): WorkflowRow[];
  /** The run, or `null`. */
  getRun(id: string): RunRow | null;
  /**
   * Runs matching `filter`, newest first by default, paged by index. Unknown `beforeRunId` ⇒
   * `NOT_FOUND`; `beforeRunId` with `offset` ⇒ `VALIDATION`.
   */
  listRuns(filter?: ListRunsFilter): RunRow[];
  /** Events with `cursor > afterCursor`, ascending; `[]` for an unknown run. */
  listEvents(runId: string, options?: ListEventsOptions): EventRow[];
  /** The run's highest cursor, `0` when it has no events (or is unknown). */
  maxCursor(runId: string): number;
  /** The run's artifacts in creation order. */
  listArtifacts(runId: string): ArtifactRow[];
}

/** The whole store: reads plus every write (spec 02 §4.6–4.7). One instance per database. */
export interface Store extends StoreReader {
  /**
   * Runs `fn` in `BEGIN IMMEDIATE … COMMIT`. Nested calls join the outermost transaction; a
   * throw rolls everything back and rethrows. `fn` must be synchronous (`VALIDATION` otherwise).
   */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: run `fn` after the outermost COMMIT (dropped on rollback). Outside: now. */
  afterCommit(fn: () => void): void;
  /** Closes the database. Idempotent; every later call throws `INTERNAL` ("closed"). */
  close(): void;
  /** Inserts or updates by slug; `id`/`createdAt` never change. Bad manifest ⇒ `VALIDATION`. */
  upsertWorkflow(args: UpsertWorkflowArgs): WorkflowRow;
  /**
   * Inserts a `queued` run, or finds the run with the same `(parentRunId, idempotencyKey)`.
   * Unknown workflow/parent ⇒ `NOT_FOUND`; key held by another workflow's run ⇒ `CONFLICT`.
   */
  createRun(args: CreateRunArgs): { run: RunRow; created: boolean };
  /** Sets the status (and given fields). With `expect`, returns whether it applied. Unknown ⇒ `NOT_FOUND`. */
  updateRunStatus(id: string, status: RunStatus, options?: UpdateRunStatusOptions): boolean;
  /** `restarts + 1`; returns the new value. Unknown ⇒ `NOT_FOUND`. */
  incrementRestarts(id: string): number;
  /** Adds to the usage tallies. Non-integer/negative ⇒ `VALIDATION`; unknown ⇒ `NOT_FOUND`. */
  addRunUsage(id: string, usage: RunUsageDelta): void;
  /** The usage tallies. Unknown ⇒ `NOT_FOUND`. */
  getRunUsage(id: string): RunUsage;
  /**
   * Appends a batch atomically. Cursor not an integer ≥ 1 ⇒ `VALIDATION`; existing cursor ⇒
   * `CONFLICT` (nothing written); unknown run ⇒ `NOT_FOUND`; empty batch ⇒ no-op.
   */
  appendEvents(runId: string, rows: readonly EventAppend[]): void;
  /** Records a cron fire. Duplicate ⇒ `CONFLICT`; unknown workflow/run ⇒ `NOT_FOUND`. */
  recordCronFire(args: CronFireArgs): void;
  /** The latest recorded fire time of the trigger, or `null`. */
  lastCronFire(workflowId: string, triggerIndex: number): number | null;
  /** Records an artifact. Bad size ⇒ `VALIDATION`; unknown run ⇒ `NOT_FOUND`. */
  createArtifact(args: CreateArtifactArgs): ArtifactRow;
}

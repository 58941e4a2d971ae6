/**
 * The public shapes of the store: argument shapes and the `Store` (synchronous, SQLite) and
 * `AsyncStore` (any backend) interfaces. Row shapes and the status vocabulary are owned by
 * `@promenade/workflow/records` and re-exported here. Types only: no values, so consumers can
 * `import type` them without loading a database driver.
 */
import type {
  ArtifactRow,
  Awaitable,
  EventListener,
  EventRow,
  HumanInputRequestRow,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  RunErrorShape,
  RunRow,
  RunUsage,
  TriggerKind,
  WorkflowRow,
  WorkflowVersionRow,
  WorkflowVersionSummary,
} from "@promenade/workflow/records";
import type {
  JsonValue,
  PassReason,
  RunEvent,
  RunStatus,
  WorkflowManifest,
} from "./internal/sdk.ts";

export type {
  ArtifactRow,
  Awaitable,
  EventListener,
  EventRow,
  HumanInputRequestRow,
  ListEventsOptions,
  ListInputRequestsFilter,
  ListRunsFilter,
  RunErrorShape,
  RunRow,
  RunUsage,
  TriggerKind,
  WorkflowRow,
  WorkflowVersionRow,
  WorkflowVersionSummary,
};
export type { PublishedEvent, CronFireRow, HumanInputStatus } from "@promenade/workflow/records";

/** Options of {@link StoreReader.listWorkflows}. */
export interface ListWorkflowsOptions {
  /** Also list undeployed workflows (their `undeployedAt` is set). Default `false`. */
  includeUndeployed?: boolean;
}

/** Arguments of {@link Store.upsertWorkflow}. */
export interface UpsertWorkflowArgs {
  slug: string;
  manifest: WorkflowManifest;
  program: string;
  /** Replaced wholesale; `{}` when absent. */
  config?: Record<string, JsonValue>;
  /**
   * Skill name → markdown deployed with the program (kept with the version; the engine also
   * writes them to disk). `{}` when absent.
   */
  skills?: Record<string, string>;
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
  /**
   * A client's retry key for the request creating a top-level run (an HTTP `Idempotency-Key`):
   * find-or-create on `(workflowId, requestKey.key)` for 24 hours (see {@link RequestKey}).
   */
  requestKey?: RequestKey;
  /**
   * The verified webhook delivery that asks for this top-level run: refused with `CONFLICT` while
   * any of its keys is remembered for the workflow's webhook (see {@link WebhookDelivery}).
   */
  delivery?: WebhookDelivery;
  /**
   * The number of the workflow version the run executes; absent: the workflow's current
   * (latest) version. A number the workflow does not have ⇒ `NOT_FOUND`.
   */
  version?: number;
}

/**
 * A client's retry key on a run-creating request, scoped to the workflow, and a fingerprint of
 * the request (e.g. a SHA-256 of its body). For 24 hours after the run it created, the same key
 * with the same fingerprint finds that run and with another fingerprint is `CONFLICT`; after
 * that the key is free again (expired bindings are deleted in small batches as new ones are
 * written). Key and fingerprint: non-empty, at most 1024 characters.
 */
export interface RequestKey {
  key: string;
  fingerprint: string;
}

/**
 * A webhook delivery that starts a run, remembered durably so a repeat is refused even after a
 * restart. Its keys (e.g. hashes of its signature and of its delivery id) are scoped to the
 * workflow's webhook `hookIndex`: while any of them is remembered (until its `expiresAt`), a
 * delivery carrying it is `CONFLICT` naming the first delivery, when it was received and its
 * run. The keys are written in the transaction that creates the run, so a delivery whose run
 * was not created is not remembered. Expired keys are deleted in small batches as new ones are
 * written.
 */
export interface WebhookDelivery {
  /** The webhook's trigger index in the workflow's manifest. */
  hookIndex: number;
  /** 1 to 8 distinct non-empty strings of at most 1024 characters. */
  keys: readonly string[];
  /** The sender's delivery id (shown in the `CONFLICT` message), or `null`; at most 1024 characters. */
  deliveryId: string | null;
  /** When the keys are forgotten, epoch ms. */
  expiresAt: number;
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

/** Arguments of {@link Store.fireCron}: one scheduled instant of one cron trigger. */
export interface FireCronArgs {
  workflowId: string;
  /** Zero-based index in `manifest.triggers`. */
  triggerIndex: number;
  /** The scheduled instant (epoch ms), not when it ran. */
  fireTime: number;
  /** The run input; `null` when absent. */
  input?: JsonValue;
}

/**
 * One status transition, committed with its events in one transaction by
 * {@link Store.commitStatus}.
 */
export interface StatusChange {
  to: RunStatus;
  /** Apply only when the current status is one of these. */
  expect: readonly RunStatus[];
  output?: JsonValue;
  error?: RunErrorShape;
  /** Only applied while the row has no `startedAt` (the first pass wins). */
  startedAt?: number;
  endedAt?: number;
  /** Why the pass this status belongs to started; written on the `run_status` event. */
  reason?: PassReason;
  /**
   * An error written on the `run_status` event only, when `error` is absent (the row's `error` is
   * untouched): the failed attempt a `retry` pass follows.
   */
  eventError?: RunErrorShape;
  /**
   * Events of the executing pass, appended first and committed whether or not the status
   * applies (so cursor order stays commit order).
   */
  pending?: readonly EventAppend[];
  /**
   * Cursor and seq of the `run_status` event from the caller's envelope. Absent: the store
   * stamps it in a fresh block after the run's highest cursor (a run no process is executing).
   */
  stamp?: { cursor: number; seq: number };
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
 * Arguments of {@link Store.createInputRequest}: one human-input gate a program opened, with the
 * events of the executing pass that commit with it.
 */
export interface CreateInputRequestArgs {
  /** The gate's name, unique within the run (non-empty, at most 1024 characters). */
  key: string;
  prompt: string;
  /** The answer form as the program gave it (any JSON; the engine checks it before). */
  inputSpec: JsonValue;
  /** Who may answer; `null`/absent for anyone. */
  assignees?: readonly string[] | null;
  /**
   * The gate's timeout in ms (integer ≥ 0): the row's `expiresAt` is its creation time plus this.
   * `null`/absent for no timeout.
   */
  timeoutMs?: number | null;
  /** Events stamped before this write, appended first (whether or not a row is inserted). */
  pending?: readonly EventAppend[];
  /**
   * Cursor and seq of the `human_input_requested` event, from the executing run's envelope.
   * Absent: the store stamps it in a fresh block after the run's highest cursor.
   */
  stamp?: { cursor: number; seq: number };
}

/** How {@link Store.settleInputRequest} closes a pending request. */
export interface InputRequestSettlement {
  /** `resolved`: a person answered; `expired`: the timeout passed. */
  status: "resolved" | "expired";
  /** The normalized answer (required for `resolved`); a timeout's default answer, or `null`. */
  response?: JsonValue | null;
  respondedBy?: string | null;
  /** Events stamped before this write, appended first. */
  pending?: readonly EventAppend[];
  /** Cursor and seq of the `human_input_resolved` event; absent: a fresh block. */
  stamp?: { cursor: number; seq: number };
}

/**
 * Arguments of {@link AsyncStore.pruneRuns}: one batch of one workflow's retention. Only terminal
 * top-level runs are candidates; each is deleted together with its descendants (child runs of any
 * workflow), and only when every run of that family is terminal. A run is outside the policy when
 * it ended before `endedBefore`, or when it is older than the workflow's newest `keepLast`
 * terminal top-level runs. At least one of the two must be given.
 */
export interface PruneRunsArgs {
  workflowId: string;
  /** Epoch ms: terminal top-level runs that ended before this are outside the policy. */
  endedBefore?: number;
  /** Integer ≥ 1: the newest `keepLast` terminal top-level runs are kept. */
  keepLast?: number;
  /** Top-level runs examined in this batch (integer 1–1000, default 200). */
  limit?: number;
  /** Where this batch starts: the `next` of the previous batch of the same sweep. */
  after?: PruneCursor | null;
}

/** A position in a workflow's top-level runs, oldest first (`created_at`, then id). */
export interface PruneCursor {
  createdAt: number;
  id: string;
}

/** One deleted run. */
export interface PrunedRun {
  id: string;
  workflowId: string;
  parentRunId: string | null;
}

/** What one {@link AsyncStore.pruneRuns} batch deleted, and where the next batch starts. */
export interface PruneRunsResult {
  /** Every run deleted (top-level runs and their descendants), with all their rows. */
  deleted: PrunedRun[];
  /** The files of the deleted artifacts (the rows are gone; the caller removes the bytes). */
  artifactPaths: string[];
  /** The start of the next batch, or `null` when no candidate is left. */
  next: PruneCursor | null;
}

/**
 * Arguments of {@link AsyncStore.pruneVersions}: one batch of one workflow's old versions. A
 * version may go when it is not the workflow's current (highest-numbered) version and no run
 * references it.
 */
export interface PruneVersionsArgs {
  workflowId: string;
  /** Versions deleted at most in this batch (integer 1–1000, default 200). */
  limit?: number;
}

/** One deleted version. */
export interface PrunedVersion {
  id: string;
  workflowId: string;
  number: number;
}

/** What one {@link AsyncStore.pruneVersions} batch deleted. */
export interface PruneVersionsResult {
  /** The deleted versions, lowest number first. */
  deleted: PrunedVersion[];
  /** True when the batch was full: another batch may find more. */
  more: boolean;
}

/**
 * Every method the engine's packages need from persistence, on any backend. Methods return
 * {@link Awaitable}: the PostgreSQL store returns promises, the SQLite store plain values (it
 * stays synchronous), and callers `await` either. Multi-row invariants are single methods, each
 * one transaction; there is no open-ended transaction in this interface.
 *
 * Events are committed here and published here: after each commit that wrote events, every
 * {@link AsyncStore.subscribe} listener receives them (with the run's workflow id and slug),
 * per run in increasing cursor order.
 */
export interface AsyncStore {
  getWorkflow(slug: string): Awaitable<WorkflowRow | null>;
  getWorkflowById(id: string): Awaitable<WorkflowRow | null>;
  /** {@link StoreReader.listWorkflows}. */
  listWorkflows(options?: ListWorkflowsOptions): Awaitable<WorkflowRow[]>;
  /** {@link StoreReader.listWorkflowVersions}. */
  listWorkflowVersions(workflowId: string): Awaitable<WorkflowVersionSummary[]>;
  /** {@link StoreReader.getWorkflowVersion}. */
  getWorkflowVersion(workflowId: string, version: number): Awaitable<WorkflowVersionRow | null>;
  getRun(id: string): Awaitable<RunRow | null>;
  listRuns(filter?: ListRunsFilter): Awaitable<RunRow[]>;
  listEvents(runId: string, options?: ListEventsOptions): Awaitable<EventRow[]>;
  maxCursor(runId: string): Awaitable<number>;
  listArtifacts(runId: string): Awaitable<ArtifactRow[]>;
  upsertWorkflow(args: UpsertWorkflowArgs): Awaitable<WorkflowRow>;
  /** {@link Store.undeployWorkflow}. */
  undeployWorkflow(slug: string): Awaitable<WorkflowRow | null>;
  /** {@link Store.createRun}: the run and its `queued` event in one transaction. */
  createRun(args: CreateRunArgs): Awaitable<{ run: RunRow; created: boolean }>;
  /** {@link Store.fireCron}. */
  fireCron(args: FireCronArgs): Awaitable<RunRow | null>;
  /** {@link Store.commitStatus}. */
  commitStatus(runId: string, change: StatusChange): Awaitable<RunRow | null>;
  incrementRestarts(id: string): Awaitable<number>;
  /** {@link Store.addActiveMs}. */
  addActiveMs(id: string, ms: number): Awaitable<number>;
  /** {@link Store.scheduleRetry}. */
  scheduleRetry(id: string, at: number): Awaitable<number>;
  /** {@link Store.clearRetry}. */
  clearRetry(id: string): Awaitable<void>;
  /** Adds to the tallies and returns the new totals. */
  addRunUsage(id: string, usage: RunUsageDelta): Awaitable<RunUsage>;
  getRunUsage(id: string): Awaitable<RunUsage>;
  appendEvents(runId: string, rows: readonly EventAppend[]): Awaitable<void>;
  lastCronFire(workflowId: string, triggerIndex: number): Awaitable<number | null>;
  createArtifact(args: CreateArtifactArgs): Awaitable<ArtifactRow>;
  /** {@link Store.getInputRequest}. */
  getInputRequest(runId: string, key: string): Awaitable<HumanInputRequestRow | null>;
  /** {@link Store.listInputRequests}. */
  listInputRequests(filter?: ListInputRequestsFilter): Awaitable<HumanInputRequestRow[]>;
  /** {@link Store.createInputRequest}. */
  createInputRequest(
    runId: string,
    args: CreateInputRequestArgs,
  ): Awaitable<{ request: HumanInputRequestRow; created: boolean }>;
  /** {@link Store.settleInputRequest}. */
  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): Awaitable<HumanInputRequestRow | null>;
  /**
   * One retention batch in one transaction: deletes the terminal top-level runs of a workflow
   * outside the policy (see {@link PruneRunsArgs}), with their descendants, events, artifact rows,
   * human-input requests, usage, request keys, webhook delivery keys and cron fire records. Never
   * deletes a family with a run that is not terminal, a run whose request key or webhook delivery
   * keys are still remembered, or the newest recorded fire of a cron trigger. Bad arguments ⇒
   * `VALIDATION`.
   */
  pruneRuns(args: PruneRunsArgs): Awaitable<PruneRunsResult>;
  /**
   * One batch of version pruning in one transaction: deletes up to `limit` versions of the
   * workflow that are not its current version and that no run (in flight or not) references,
   * lowest number first. Their skills directories are the caller's to remove. Bad arguments ⇒
   * `VALIDATION`.
   */
  pruneVersions(args: PruneVersionsArgs): Awaitable<PruneVersionsResult>;
  /** One trivial read; throws (rejects) `INTERNAL` when the database cannot be reached. */
  ping(): Awaitable<void>;
  /** Receives every event after its commit; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  close(): Awaitable<void>;
}

/**
 * The read side of the store (what `engine.store` exposes). Every method is synchronous.
 * Lookups return `null`/`[]` for unknown ids; malformed arguments throw `VALIDATION`; a row
 * that fails its read validator throws `INTERNAL` naming `<table>.<column>`.
 */
export interface StoreReader {
  /** The workflow deployed under `slug`, or `null` (also when it was undeployed). */
  getWorkflow(slug: string): WorkflowRow | null;
  /** The workflow with this id, deployed or undeployed (`undeployedAt` set), or `null`. */
  getWorkflowById(id: string): WorkflowRow | null;
  /**
   * Every deployed workflow, by slug ascending; with `includeUndeployed`, the undeployed ones too.
   */
  listWorkflows(options?: ListWorkflowsOptions): WorkflowRow[];
  /**
   * The workflow's versions without their content, newest (highest number) first; `[]` for an
   * unknown workflow. Every deploy that changed the content (program, manifest, deploy config,
   * skills) added one; the first is the current version.
   */
  listWorkflowVersions(workflowId: string): WorkflowVersionSummary[];
  /** The workflow's version with this number, with its content, or `null`. */
  getWorkflowVersion(workflowId: string, version: number): WorkflowVersionRow | null;
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

/**
 * The whole SQLite store: synchronous reads plus every write, and the SQLite-only
 * `transaction`/`afterCommit`/`updateRunStatus`/`recordCronFire`. One instance per database.
 * Satisfies {@link AsyncStore} (its plain values are `Awaitable` values).
 */
export interface Store extends StoreReader, Omit<AsyncStore, keyof StoreReader> {
  /**
   * Runs `fn` in `BEGIN IMMEDIATE … COMMIT`. Nested calls join the outermost transaction; a
   * throw rolls everything back and rethrows. `fn` must be synchronous (`VALIDATION` otherwise).
   */
  transaction<T>(fn: () => T): T;
  /** Inside a transaction: run `fn` after the outermost COMMIT (dropped on rollback). Outside: now. */
  afterCommit(fn: () => void): void;
  /** Closes the database. Idempotent; every later call throws `INTERNAL` ("closed"). */
  close(): void;
  /**
   * Inserts or updates by slug; `id`/`createdAt` never change. In the same transaction, records
   * a new version (numbered one past the current) unless the content hash equals the current
   * version's. Bad manifest ⇒ `VALIDATION`. Redeploying an undeployed slug deploys it again (same
   * id; its versions continue).
   */
  upsertWorkflow(args: UpsertWorkflowArgs): WorkflowRow;
  /**
   * Undeploys the workflow deployed under `slug`: it keeps its row, versions, runs, events and
   * artifacts, but is no longer read by slug nor listed. Returns the row with `undeployedAt` set,
   * or `null` when no workflow is deployed under `slug`.
   */
  undeployWorkflow(slug: string): WorkflowRow | null;
  /**
   * Inserts a `queued` run and its `queued` event (cursor 1) in one transaction, or finds the run
   * with the same `(parentRunId, idempotencyKey)` (writing nothing). With `requestKey`, finds the
   * run the key is bound to in this workflow (same fingerprint, within 24 hours), or creates the
   * run and binds the key to it in the same transaction.
   * Unknown workflow/parent ⇒ `NOT_FOUND`; key held by another workflow's run ⇒ `CONFLICT`;
   * request key bound to a run of a different request (another fingerprint) ⇒ `CONFLICT`;
   * `requestKey` with `parentRunId` or `idempotencyKey` ⇒ `VALIDATION`. With `delivery`, first
   * refuses a delivery any of whose keys is still remembered (`CONFLICT` naming the delivery, when
   * it was received and its run), then remembers the keys with the new run.
   */
  createRun(args: CreateRunArgs): { run: RunRow; created: boolean };
  /**
   * Records one cron fire, creates its `cron` run and writes the run's `queued` event, in one
   * transaction. Returns `null` (writing nothing) when that instant of that trigger was already
   * recorded: each instant fires exactly once. Unknown workflow ⇒ `NOT_FOUND`.
   */
  fireCron(args: FireCronArgs): RunRow | null;
  /**
   * In one transaction: appends `change.pending`, then — when the run's status is one of
   * `change.expect` — sets the status and fields and appends the `run_status` event (with
   * `error: { code, message }` when given); a terminal status also cancels the run's pending
   * human-input requests (`respondedAt` set). Returns the updated row, or `null` when the status
   * did not apply. Unknown run ⇒ `NOT_FOUND`.
   */
  commitStatus(runId: string, change: StatusChange): RunRow | null;
  /** {@link AsyncStore.pruneRuns}, synchronously. */
  pruneRuns(args: PruneRunsArgs): PruneRunsResult;
  /** {@link AsyncStore.pruneVersions}, synchronously. */
  pruneVersions(args: PruneVersionsArgs): PruneVersionsResult;
  /**
   * Returns up to `pages` free pages of the file to the file system (`PRAGMA incremental_vacuum`,
   * a short step) and how many it freed: `0` when nothing is free, or when the database was
   * created before incremental auto-vacuum was enabled (its space is reused, not returned).
   */
  reclaimSpace(pages: number): number;
  /**
   * Copies the whole database to `file` with SQLite's online backup while the store keeps
   * working: the copy holds every transaction committed before the returned promise resolves.
   * Rejects `INTERNAL` when the file cannot be written.
   */
  backup(file: string): Promise<void>;
  /** One trivial read; throws `INTERNAL` when closed or unreadable. */
  ping(): void;
  /** Receives every event synchronously right after its COMMIT; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Sets the status (and given fields). With `expect`, returns whether it applied. Unknown ⇒ `NOT_FOUND`. */
  updateRunStatus(id: string, status: RunStatus, options?: UpdateRunStatusOptions): boolean;
  /** `restarts + 1`; returns the new value. Unknown ⇒ `NOT_FOUND`. */
  incrementRestarts(id: string): number;
  /**
   * Adds `ms` (integer ≥ 0) to the time the run's processes were alive; returns the new total.
   * Bad number ⇒ `VALIDATION`; unknown ⇒ `NOT_FOUND`.
   */
  addActiveMs(id: string, ms: number): number;
  /**
   * Counts one retry of the run and records when its next attempt is due (epoch ms); returns the
   * new `retries`. Bad number ⇒ `VALIDATION`; unknown ⇒ `NOT_FOUND`.
   */
  scheduleRetry(id: string, at: number): number;
  /** Clears `retryAt` (the waiting attempt started). Unknown ⇒ `NOT_FOUND`. */
  clearRetry(id: string): void;
  /** Adds to the usage tallies; returns the new totals. Non-integer/negative ⇒ `VALIDATION`; unknown ⇒ `NOT_FOUND`. */
  addRunUsage(id: string, usage: RunUsageDelta): RunUsage;
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
  /** The run's human-input request with this key, or `null`. */
  getInputRequest(runId: string, key: string): HumanInputRequestRow | null;
  /**
   * Human-input requests, newest first (creation time, then insertion order). `runId` and
   * `statuses` combine with AND; `statuses: []` matches nothing; no filter lists every row.
   */
  listInputRequests(filter?: ListInputRequestsFilter): HumanInputRequestRow[];
  /**
   * In one transaction: appends `args.pending`, then finds the run's request with `args.key` or
   * inserts it `pending` (its `seq` the run's next) together with its `human_input_requested`
   * event (at `args.stamp`, or in a fresh block). A found request is returned as it is (any
   * status), writing nothing more. Unknown run ⇒ `NOT_FOUND`.
   */
  createInputRequest(
    runId: string,
    args: CreateInputRequestArgs,
  ): { request: HumanInputRequestRow; created: boolean };
  /**
   * In one transaction: appends `settlement.pending`, then — only while the request is still
   * `pending` — sets its status, `response`, `respondedBy` and `respondedAt` and appends its
   * `human_input_resolved` event (at `settlement.stamp`, or in a fresh block). Returns the
   * updated row, or `null` when there is no pending request with that key (already answered,
   * expired, cancelled or never asked): the first settlement wins. Unknown run ⇒ `NOT_FOUND`.
   */
  settleInputRequest(
    runId: string,
    key: string,
    settlement: InputRequestSettlement,
  ): HumanInputRequestRow | null;
}

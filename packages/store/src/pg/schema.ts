/**
 * The drizzle table definitions of the PostgreSQL store: the typed view of the schema that every
 * query of `./store.ts` is written against. Columns only; the DDL (identity columns, partial and
 * expression indexes) lives in the hand-written migrations of `./migrations.ts`, and a test
 * checks that a migrated database has exactly the columns declared here.
 *
 * Same tables and columns as the SQLite store, plus what PostgreSQL has no implicit equivalent
 * for: `runs.position` / `artifacts.position` (insertion order, SQLite's rowid), `workflows.version`
 * (bumped by every deploy, so another process's cached row is known stale) and
 * `run_events.channel` (the event's channel, for channel-filtered reads). Timestamps are epoch ms
 * in `bigint`; JSON is stored as text so that every value reads back exactly as written.
 */
import {
  bigint,
  boolean,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

const epochMs = (name: string) => bigint(name, { mode: "number" });

/** `workflows`: one row per deployed slug; `id` and `created_at` survive redeploys. */
export const workflows = pgTable("workflows", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  manifest: text("manifest").notNull(),
  program: text("program").notNull(),
  config: text("config").notNull(),
  version: bigint("version", { mode: "number" }).notNull().default(1),
  createdAt: epochMs("created_at").notNull(),
  updatedAt: epochMs("updated_at").notNull(),
  undeployedAt: epochMs("undeployed_at"),
});

/** `runs`: `position` breaks `created_at` ties in insertion order. */
export const runs = pgTable("runs", {
  id: text("id").primaryKey(),
  position: bigint("position", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
  workflowId: text("workflow_id")
    .notNull()
    .references(() => workflows.id),
  status: text("status").notNull(),
  triggerKind: text("trigger_kind").notNull(),
  input: text("input"),
  output: text("output"),
  error: text("error"),
  parentRunId: text("parent_run_id"),
  idempotencyKey: text("idempotency_key"),
  restarts: integer("restarts").notNull().default(0),
  tokensIn: bigint("tokens_in", { mode: "number" }).notNull().default(0),
  tokensOut: bigint("tokens_out", { mode: "number" }).notNull().default(0),
  usdMicros: bigint("usd_micros", { mode: "number" }).notNull().default(0),
  createdAt: epochMs("created_at").notNull(),
  startedAt: epochMs("started_at"),
  endedAt: epochMs("ended_at"),
  versionId: text("version_id").references(() => workflowVersions.id),
  version: bigint("version", { mode: "number" }),
  activeMs: bigint("active_ms", { mode: "number" }).notNull().default(0),
  retries: integer("retries").notNull().default(0),
  retryAt: epochMs("retry_at"),
  /** Cluster mode: the node holding the run, its lease (database clock) and the hold's epoch. */
  nodeId: text("node_id"),
  leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true, mode: "string" }),
  epoch: integer("epoch").notNull().default(0),
  /** Cluster mode: a node that does not hold the run asked its holder to cancel it. */
  cancelRequested: boolean("cancel_requested").notNull().default(false),
});

/** `cluster_nodes`: the nodes of a cluster, with their last heartbeat (database clock). */
export const clusterNodes = pgTable("cluster_nodes", {
  id: text("id").primaryKey(),
  startedAt: timestamp("started_at", { withTimezone: true, mode: "string" }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true, mode: "string" })
    .notNull()
    .defaultNow(),
  draining: boolean("draining").notNull().default(false),
});

/**
 * `workflow_versions`: one immutable row per deploy that changed a workflow's content, numbered
 * 1, 2, 3… per workflow; `skills` is `NULL` for a version recorded before versions existed.
 */
export const workflowVersions = pgTable("workflow_versions", {
  id: text("id").primaryKey(),
  workflowId: text("workflow_id")
    .notNull()
    .references(() => workflows.id),
  number: bigint("number", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  manifest: text("manifest").notNull(),
  program: text("program").notNull(),
  config: text("config").notNull(),
  skills: text("skills"),
  deployedAt: epochMs("deployed_at").notNull(),
});

/** `run_events`: append-only, keyed by `(run_id, cursor)`; `event` is the stamped event JSON. */
export const runEvents = pgTable(
  "run_events",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    cursor: bigint("cursor", { mode: "number" }).notNull(),
    channel: text("channel").notNull(),
    event: text("event").notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.cursor] })],
);

/** `cron_fires`: the exactly-once record of each scheduled instant that produced a run. */
export const cronFires = pgTable(
  "cron_fires",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    triggerIndex: integer("trigger_index").notNull(),
    fireTime: epochMs("fire_time").notNull(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    createdAt: epochMs("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.triggerIndex, table.fireTime] })],
);

/** `artifacts`: metadata of files a run wrote; the bytes live on disk at `path`. */
export const artifacts = pgTable("artifacts", {
  id: text("id").primaryKey(),
  position: bigint("position", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
  runId: text("run_id")
    .notNull()
    .references(() => runs.id),
  name: text("name").notNull(),
  contentType: text("content_type").notNull(),
  path: text("path").notNull(),
  size: bigint("size", { mode: "number" }).notNull(),
  metadata: text("metadata"),
  createdAt: epochMs("created_at").notNull(),
});

/** `human_input_requests`: one row per gate key of a run (the durable answer slot). */
export const humanInputRequests = pgTable("human_input_requests", {
  id: text("id").primaryKey(),
  position: bigint("position", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
  runId: text("run_id")
    .notNull()
    .references(() => runs.id, { onDelete: "cascade" }),
  seq: integer("seq").notNull(),
  key: text("key").notNull(),
  prompt: text("prompt").notNull(),
  inputSpec: text("input_spec").notNull(),
  assignees: text("assignees"),
  status: text("status").notNull(),
  response: text("response"),
  respondedBy: text("responded_by"),
  createdAt: epochMs("created_at").notNull(),
  expiresAt: epochMs("expires_at"),
  respondedAt: epochMs("responded_at"),
  /**
   * Cluster mode: resolved through a node that does not execute the run; the run's holder has not
   * written its `human_input_resolved` event yet.
   */
  unannounced: boolean("unannounced").notNull().default(false),
});

/**
 * `run_request_keys`: a client's retry key (an HTTP `Idempotency-Key`) bound, per workflow, to the
 * run its first request created, with that request's fingerprint; rebound after 24 hours.
 */
export const runRequestKeys = pgTable(
  "run_request_keys",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    createdAt: epochMs("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.key] })],
);

/**
 * `webhook_deliveries`: the keys of a verified webhook delivery that started a run (hashes of its
 * signature and of its delivery id), per workflow and webhook, until they expire.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    hookIndex: integer("hook_index").notNull(),
    key: text("key").notNull(),
    deliveryId: text("delivery_id"),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    receivedAt: epochMs("received_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.hookIndex, table.key] })],
);

/** `schema_migrations`: one row per applied migration. */
export const schemaMigrations = pgTable("schema_migrations", {
  version: integer("version").primaryKey(),
  name: text("name").notNull(),
  appliedAt: epochMs("applied_at").notNull(),
});

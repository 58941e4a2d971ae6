/**
 * The drizzle table definitions: the typed view of the SQLite schema that every query in this
 * package is written against. They describe columns only; the DDL itself (STRICT tables,
 * WITHOUT ROWID, partial and expression indexes) lives in the hand-written migrations, and a
 * test checks that the migrated database has exactly the columns declared here.
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** `workflows`: one row per deployed slug; `id` and `created_at` survive redeploys. */
export const workflows = sqliteTable("workflows", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  manifest: text("manifest").notNull(),
  program: text("program").notNull(),
  config: text("config").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  undeployedAt: integer("undeployed_at"),
});

/** `runs`: a rowid table; `rowid` breaks `created_at` ties in insertion order. */
export const runs = sqliteTable("runs", {
  id: text("id").primaryKey(),
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
  tokensIn: integer("tokens_in").notNull().default(0),
  tokensOut: integer("tokens_out").notNull().default(0),
  usdMicros: integer("usd_micros").notNull().default(0),
  createdAt: integer("created_at").notNull(),
  startedAt: integer("started_at"),
  endedAt: integer("ended_at"),
  versionId: text("version_id").references(() => workflowVersions.id),
  version: integer("version"),
  activeMs: integer("active_ms").notNull().default(0),
  retries: integer("retries").notNull().default(0),
  retryAt: integer("retry_at"),
});

/**
 * `workflow_versions`: one immutable row per deploy that changed a workflow's content, numbered
 * 1, 2, 3… per workflow; `skills` is `NULL` for a version recorded before versions existed.
 */
export const workflowVersions = sqliteTable("workflow_versions", {
  id: text("id").primaryKey(),
  workflowId: text("workflow_id")
    .notNull()
    .references(() => workflows.id),
  number: integer("number").notNull(),
  hash: text("hash").notNull(),
  manifest: text("manifest").notNull(),
  program: text("program").notNull(),
  config: text("config").notNull(),
  skills: text("skills"),
  deployedAt: integer("deployed_at").notNull(),
});

/** `run_events`: append-only, keyed by `(run_id, cursor)`; `event` is the stamped event JSON. */
export const runEvents = sqliteTable(
  "run_events",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    cursor: integer("cursor").notNull(),
    event: text("event").notNull(),
  },
  (table) => [primaryKey({ columns: [table.runId, table.cursor] })],
);

/** `cron_fires`: the exactly-once record of each scheduled instant that produced a run. */
export const cronFires = sqliteTable(
  "cron_fires",
  {
    workflowId: text("workflow_id")
      .notNull()
      .references(() => workflows.id),
    triggerIndex: integer("trigger_index").notNull(),
    fireTime: integer("fire_time").notNull(),
    runId: text("run_id")
      .notNull()
      .references(() => runs.id),
    createdAt: integer("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.triggerIndex, table.fireTime] })],
);

/** `artifacts`: metadata of files a run wrote; the bytes live on disk at `path`. */
export const artifacts = sqliteTable("artifacts", {
  id: text("id").primaryKey(),
  runId: text("run_id")
    .notNull()
    .references(() => runs.id),
  name: text("name").notNull(),
  contentType: text("content_type").notNull(),
  path: text("path").notNull(),
  size: integer("size").notNull(),
  metadata: text("metadata"),
  createdAt: integer("created_at").notNull(),
});

/**
 * `human_input_requests`: one row per gate key of a run (the durable answer slot); a rowid table,
 * `rowid` breaks `created_at` ties in insertion order.
 */
export const humanInputRequests = sqliteTable("human_input_requests", {
  id: text("id").primaryKey(),
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
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at"),
  respondedAt: integer("responded_at"),
});

/**
 * `run_request_keys`: a client's retry key (an HTTP `Idempotency-Key`) bound, per workflow, to the
 * run its first request created, with that request's fingerprint; rebound after 24 hours.
 */
export const runRequestKeys = sqliteTable(
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
    createdAt: integer("created_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.key] })],
);

/**
 * `webhook_deliveries`: the keys of a verified webhook delivery that started a run (hashes of its
 * signature and of its delivery id), per workflow and webhook, until they expire.
 */
export const webhookDeliveries = sqliteTable(
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
    receivedAt: integer("received_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.workflowId, table.hookIndex, table.key] })],
);

/** `schema_migrations`: one row per applied migration (`PRAGMA user_version` mirrors the max). */
export const schemaMigrations = sqliteTable("schema_migrations", {
  version: integer("version").primaryKey(),
  name: text("name").notNull(),
  appliedAt: integer("applied_at").notNull(),
});

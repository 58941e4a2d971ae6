/**
 * The migration list: forward-only, versioned, hand-written SQL compiled into the package.
 * A released migration is frozen: never edit one, append a new version instead (a database
 * records which versions it has applied and never re-runs them). The runner is migrate.ts.
 */

/** One schema step. `version` is a positive integer, strictly ascending through the list. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const initial = `
CREATE TABLE workflows (
  id TEXT PRIMARY KEY NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  manifest TEXT NOT NULL,
  program TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE runs (
  id TEXT PRIMARY KEY NOT NULL,
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  status TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  input TEXT,
  output TEXT,
  error TEXT,
  parent_run_id TEXT REFERENCES runs(id),
  idempotency_key TEXT,
  restarts INTEGER NOT NULL DEFAULT 0,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  usd_micros INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER
) STRICT;

CREATE TABLE run_events (
  run_id TEXT NOT NULL REFERENCES runs(id),
  cursor INTEGER NOT NULL CHECK (cursor >= 1),
  event TEXT NOT NULL,
  PRIMARY KEY (run_id, cursor)
) STRICT, WITHOUT ROWID;

CREATE TABLE cron_fires (
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  trigger_index INTEGER NOT NULL,
  fire_time INTEGER NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, trigger_index, fire_time)
) STRICT, WITHOUT ROWID;

CREATE TABLE artifacts (
  id TEXT PRIMARY KEY NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  metadata TEXT,
  created_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX runs_parent_idempotency_key
  ON runs (COALESCE(parent_run_id, ''), idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_workflow_id_status ON runs (workflow_id, status);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_parent_run_id ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_created_at ON runs (created_at);
CREATE INDEX artifacts_run_id ON artifacts (run_id);
`;

// Paging by index: each run listing index ends in created_at (and, implicitly, rowid), so a
// filtered page in (created_at, rowid) order is a range read, never a scan plus sort. The
// channel index does the same for event listings filtered by channel (rebuilt by migration 3
// with the expression events.ts uses now).
const pagingIndexes = `
DROP INDEX runs_workflow_id_status;
CREATE INDEX runs_workflow_id_status ON runs (workflow_id, status, created_at);
DROP INDEX runs_status;
CREATE INDEX runs_status ON runs (status, created_at);
DROP INDEX runs_parent_run_id;
CREATE INDEX runs_parent_run_id ON runs (parent_run_id, created_at) WHERE parent_run_id IS NOT NULL;
CREATE INDEX run_events_channel ON run_events (run_id, (CASE json_extract(event, '$.kind') WHEN 'run_status' THEN 'lifecycle' WHEN 'phase' THEN 'phase' WHEN 'output' THEN 'output' WHEN 'program_output' THEN 'log' ELSE 'agent' END), cursor);
`;

// Human-input gates: one row per (run, key), the durable answer slot of a gate, removed with its
// run. The channel index is rebuilt because the two human-input events belong to the lifecycle
// channel (as do `suspended`/`resumed`, and `egress_denied` to the log channel: kinds this engine
// never writes, mapped now so a later release that stores them needs no index rebuild). The CASE
// expression must stay byte-identical to CHANNEL_EXPRESSION in events.ts.
const humanInputRequests = `
CREATE TABLE human_input_requests (
  id TEXT PRIMARY KEY NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  prompt TEXT NOT NULL,
  input_spec TEXT NOT NULL,
  assignees TEXT,
  status TEXT NOT NULL,
  response TEXT,
  responded_by TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  responded_at INTEGER
) STRICT;
CREATE UNIQUE INDEX human_input_requests_run_key ON human_input_requests (run_id, key);
CREATE INDEX human_input_requests_status ON human_input_requests (status, created_at);
DROP INDEX run_events_channel;
CREATE INDEX run_events_channel ON run_events (run_id, (CASE json_extract(event, '$.kind') WHEN 'run_status' THEN 'lifecycle' WHEN 'human_input_requested' THEN 'lifecycle' WHEN 'human_input_resolved' THEN 'lifecycle' WHEN 'suspended' THEN 'lifecycle' WHEN 'resumed' THEN 'lifecycle' WHEN 'phase' THEN 'phase' WHEN 'output' THEN 'output' WHEN 'program_output' THEN 'log' WHEN 'egress_denied' THEN 'log' ELSE 'agent' END), cursor);
`;

// Client retry keys (HTTP `Idempotency-Key`) of run-creating requests: one row per (workflow,
// key), bound to the run the key's first request created and rebound once 24 hours have passed.
const runRequestKeys = `
CREATE TABLE run_request_keys (
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_request_keys_expiry ON run_request_keys (workflow_id, created_at);
`;

// Verified webhook deliveries that started a run: one row per key of a delivery (hashes of its
// signature and of its delivery id), per workflow and webhook, until the key expires.
const webhookDeliveries = `
CREATE TABLE webhook_deliveries (
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  hook_index INTEGER NOT NULL,
  key TEXT NOT NULL,
  delivery_id TEXT,
  run_id TEXT NOT NULL REFERENCES runs(id),
  received_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, hook_index, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (workflow_id, expires_at);
`;

// Run accounting across passes: the time its processes were alive (what max_duration_seconds
// limits), the attempts its retry policy started again, and when a waiting retry is due.
const runAccounting = `
ALTER TABLE runs ADD COLUMN active_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retry_at INTEGER;
`;

// Workflow versions: every deploy that changes a workflow's content is kept as an immutable,
// numbered row, and each run records the version it was created on (with its number, so a run
// reads back without a join). A workflow deployed before versions existed becomes its version 1
// (id: the workflow's id; skills unknown, NULL; hash filled in by the store on open, from the
// same content formula every deploy uses) and every existing run points at it.
const workflowVersions = `
CREATE TABLE workflow_versions (
  id TEXT PRIMARY KEY NOT NULL,
  workflow_id TEXT NOT NULL REFERENCES workflows(id),
  number INTEGER NOT NULL CHECK (number >= 1),
  hash TEXT NOT NULL,
  manifest TEXT NOT NULL,
  program TEXT NOT NULL,
  config TEXT NOT NULL,
  skills TEXT,
  deployed_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX workflow_versions_number ON workflow_versions (workflow_id, number);
INSERT INTO workflow_versions (id, workflow_id, number, hash, manifest, program, config, skills, deployed_at)
  SELECT id, id, 1, '', manifest, program, config, NULL, updated_at FROM workflows;
ALTER TABLE runs ADD COLUMN version_id TEXT REFERENCES workflow_versions(id);
ALTER TABLE runs ADD COLUMN version INTEGER;
UPDATE runs SET version_id = workflow_id, version = 1;
`;

// Retention deletes runs in batches: every table that references a run is looked up by run id
// (the foreign-key checks of a run's DELETE, and the retention batch's own lookups), so each
// gets an index on it instead of a scan per deleted run.
const retentionIndexes = `
CREATE INDEX cron_fires_run_id ON cron_fires (run_id);
CREATE INDEX run_request_keys_run_id ON run_request_keys (run_id);
CREATE INDEX webhook_deliveries_run_id ON webhook_deliveries (run_id);
`;

// Undeploy: a workflow taken out of service keeps its row (its runs, versions and artifacts
// reference it) and is marked with the instant it was undeployed. A redeploy of the same slug
// clears the mark: same id, versions continue.
const workflowUndeploy = `
ALTER TABLE workflows ADD COLUMN undeployed_at INTEGER;
`;

// Pruning old versions asks whether any run references a version, and deleting a version checks
// the runs' foreign key: both look runs up by version, so they get an index instead of a scan.
const runsVersionIndex = `
CREATE INDEX runs_version_id ON runs (version_id);
`;

/** Every migration this version of the package knows, oldest first. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: "0001_initial", sql: initial },
  { version: 2, name: "0002_paging_indexes", sql: pagingIndexes },
  { version: 3, name: "0003_human_input_requests", sql: humanInputRequests },
  { version: 4, name: "0004_run_request_keys", sql: runRequestKeys },
  { version: 5, name: "0005_webhook_deliveries", sql: webhookDeliveries },
  { version: 6, name: "0006_workflow_versions", sql: workflowVersions },
  { version: 7, name: "0007_run_accounting", sql: runAccounting },
  { version: 8, name: "0008_retention_indexes", sql: retentionIndexes },
  { version: 9, name: "0009_workflow_undeploy", sql: workflowUndeploy },
  { version: 10, name: "0010_runs_version_id", sql: runsVersionIndex },
]);

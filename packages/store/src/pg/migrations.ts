/**
 * The PostgreSQL migration list: forward-only, versioned, hand-written SQL compiled into the
 * package, separate from the SQLite list (the two dialects differ). A released migration is
 * frozen: never edit one, append a new version instead. The runner is `./migrate.ts`.
 */
import type { Migration } from "../migrations.ts";

// Slugs sort byte-wise ("C" collation) whatever the database's locale, as they do on SQLite.
// Run and event listings are range reads of these indexes in (created_at, position) and cursor
// order, never a scan plus sort.
const initial = `
CREATE TABLE workflows (
  id text PRIMARY KEY,
  slug text COLLATE "C" NOT NULL UNIQUE,
  manifest text NOT NULL,
  program text NOT NULL,
  config text NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE runs (
  id text PRIMARY KEY,
  position bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  workflow_id text NOT NULL REFERENCES workflows (id),
  status text NOT NULL,
  trigger_kind text NOT NULL,
  input text,
  output text,
  error text,
  parent_run_id text REFERENCES runs (id),
  idempotency_key text,
  restarts integer NOT NULL DEFAULT 0,
  tokens_in bigint NOT NULL DEFAULT 0,
  tokens_out bigint NOT NULL DEFAULT 0,
  usd_micros bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  started_at bigint,
  ended_at bigint
);

CREATE TABLE run_events (
  run_id text NOT NULL REFERENCES runs (id),
  cursor bigint NOT NULL CHECK (cursor >= 1),
  channel text NOT NULL,
  event text NOT NULL,
  PRIMARY KEY (run_id, cursor)
);

CREATE TABLE cron_fires (
  workflow_id text NOT NULL REFERENCES workflows (id),
  trigger_index integer NOT NULL,
  fire_time bigint NOT NULL,
  run_id text NOT NULL REFERENCES runs (id),
  created_at bigint NOT NULL,
  PRIMARY KEY (workflow_id, trigger_index, fire_time)
);

CREATE TABLE artifacts (
  id text PRIMARY KEY,
  position bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  run_id text NOT NULL REFERENCES runs (id),
  name text NOT NULL,
  content_type text NOT NULL,
  path text NOT NULL,
  size bigint NOT NULL,
  metadata text,
  created_at bigint NOT NULL
);

CREATE UNIQUE INDEX runs_parent_idempotency_key
  ON runs ((COALESCE(parent_run_id, '')), idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_created_at ON runs (created_at, position);
CREATE INDEX runs_status ON runs (status, created_at, position);
CREATE INDEX runs_workflow_id_status ON runs (workflow_id, status, created_at, position);
CREATE INDEX runs_parent_run_id ON runs (parent_run_id, created_at, position)
  WHERE parent_run_id IS NOT NULL;
CREATE INDEX run_events_channel ON run_events (run_id, channel, cursor);
CREATE INDEX artifacts_run_id ON artifacts (run_id, position);
`;

// Human-input gates: one row per (run, key), the durable answer slot of a gate, removed with its
// run; `position` keeps insertion order for the newest-first listings.
const humanInputRequests = `
CREATE TABLE human_input_requests (
  id text PRIMARY KEY,
  position bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  key text NOT NULL,
  prompt text NOT NULL,
  input_spec text NOT NULL,
  assignees text,
  status text NOT NULL,
  response text,
  responded_by text,
  created_at bigint NOT NULL,
  expires_at bigint,
  responded_at bigint
);

CREATE UNIQUE INDEX human_input_requests_run_key ON human_input_requests (run_id, key);
CREATE INDEX human_input_requests_status ON human_input_requests (status, created_at, position);
`;

// Client retry keys (HTTP `Idempotency-Key`) of run-creating requests: one row per (workflow,
// key), bound to the run the key's first request created and rebound once 24 hours have passed.
const runRequestKeys = `
CREATE TABLE run_request_keys (
  workflow_id text NOT NULL REFERENCES workflows (id),
  key text NOT NULL,
  fingerprint text NOT NULL,
  run_id text NOT NULL REFERENCES runs (id),
  created_at bigint NOT NULL,
  PRIMARY KEY (workflow_id, key)
);
CREATE INDEX run_request_keys_expiry ON run_request_keys (workflow_id, created_at);
`;

// Verified webhook deliveries that started a run: one row per key of a delivery (hashes of its
// signature and of its delivery id), per workflow and webhook, until the key expires.
const webhookDeliveries = `
CREATE TABLE webhook_deliveries (
  workflow_id text NOT NULL REFERENCES workflows (id),
  hook_index integer NOT NULL,
  key text NOT NULL,
  delivery_id text,
  run_id text NOT NULL REFERENCES runs (id),
  received_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (workflow_id, hook_index, key)
);
CREATE INDEX webhook_deliveries_expiry ON webhook_deliveries (workflow_id, expires_at);
`;

// Run accounting across passes: the time its processes were alive (what max_duration_seconds
// limits), the attempts its retry policy started again, and when a waiting retry is due.
const runAccounting = `
ALTER TABLE runs ADD COLUMN active_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN retry_at bigint;
`;

// Workflow versions: every deploy that changes a workflow's content is kept as an immutable,
// numbered row, and each run records the version it was created on (with its number, so a run
// reads back without a join). A workflow deployed before versions existed becomes its version 1
// (id: the workflow's id; skills unknown, NULL; hash filled in by the store on open, from the
// same content formula every deploy uses) and every existing run points at it.
const workflowVersions = `
CREATE TABLE workflow_versions (
  id text PRIMARY KEY,
  workflow_id text NOT NULL REFERENCES workflows (id),
  number bigint NOT NULL CHECK (number >= 1),
  hash text NOT NULL,
  manifest text NOT NULL,
  program text NOT NULL,
  config text NOT NULL,
  skills text,
  deployed_at bigint NOT NULL
);
CREATE UNIQUE INDEX workflow_versions_number ON workflow_versions (workflow_id, number);
INSERT INTO workflow_versions (id, workflow_id, number, hash, manifest, program, config, skills, deployed_at)
  SELECT id, id, 1, '', manifest, program, config, NULL, updated_at FROM workflows;
ALTER TABLE runs ADD COLUMN version_id text REFERENCES workflow_versions (id);
ALTER TABLE runs ADD COLUMN version bigint;
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
ALTER TABLE workflows ADD COLUMN undeployed_at bigint;
`;

// Pruning old versions asks whether any run references a version, and deleting a version checks
// the runs' foreign key: both look runs up by version, so they get an index instead of a scan.
const runsVersionIndex = `
CREATE INDEX runs_version_id ON runs (version_id);
`;

// Cluster mode: many engines share one database. The node executing a run holds it under a
// lease (an instant of the database clock) and an epoch that grows on every claim or takeover;
// every write of the holder checks both. A cancel received by a node that does not hold the run
// is recorded in `cancel_requested` for the holder to act on. `cluster_nodes` lists the nodes with
// their last heartbeat.
const cluster = `
ALTER TABLE runs ADD COLUMN node_id text;
ALTER TABLE runs ADD COLUMN lease_expires_at timestamptz;
ALTER TABLE runs ADD COLUMN epoch integer NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
CREATE INDEX runs_node_id ON runs (node_id) WHERE node_id IS NOT NULL;
CREATE TABLE cluster_nodes (
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  draining boolean NOT NULL DEFAULT false
);
`;

// Live events across processes sharing one database: every statement that appends events
// notifies channel `promenade_events` with one payload per run it wrote to —
// "<run id>:<lowest cursor>:<highest cursor>:<origin>" — delivered to listeners when the
// transaction commits. Only sessions that name an origin (the `promenade.origin` setting, which
// a store that listens for other writers sets on its connections) notify; others pay one
// setting lookup per statement.
const eventNotify = `
CREATE FUNCTION promenade_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  origin text := current_setting('promenade.origin', true);
  written record;
BEGIN
  IF origin IS NULL OR origin = '' THEN
    RETURN NULL;
  END IF;
  FOR written IN
    SELECT run_id, min(cursor) AS low, max(cursor) AS high FROM new_events GROUP BY run_id
  LOOP
    PERFORM pg_notify('promenade_events',
      written.run_id || ':' || written.low || ':' || written.high || ':' || origin);
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER run_events_notify AFTER INSERT ON run_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION promenade_notify_events();
`;

// Human input across a cluster's nodes: an answer taken by a node that does not execute the run
// is stored at once but its `human_input_resolved` event is left to the run's holder (only the
// holder writes into a run's log); `unannounced` marks such an answer until the holder wrote it.
// Those nodes are told through channel `promenade_signals` (payload: the run id).
const remoteAnswers = `
ALTER TABLE human_input_requests ADD COLUMN unannounced boolean NOT NULL DEFAULT false;
CREATE INDEX human_input_requests_unannounced ON human_input_requests (run_id) WHERE unannounced;
`;

/** Every PostgreSQL migration this version of the package knows, oldest first. */
export const PG_MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: "0001_initial", sql: initial },
  { version: 2, name: "0002_human_input_requests", sql: humanInputRequests },
  { version: 3, name: "0003_run_request_keys", sql: runRequestKeys },
  { version: 4, name: "0004_webhook_deliveries", sql: webhookDeliveries },
  { version: 5, name: "0005_workflow_versions", sql: workflowVersions },
  { version: 6, name: "0006_run_accounting", sql: runAccounting },
  { version: 7, name: "0007_retention_indexes", sql: retentionIndexes },
  { version: 8, name: "0008_workflow_undeploy", sql: workflowUndeploy },
  { version: 9, name: "0009_runs_version_id", sql: runsVersionIndex },
  { version: 10, name: "0010_cluster", sql: cluster },
  { version: 11, name: "0011_event_notify", sql: eventNotify },
  { version: 12, name: "0012_remote_answers", sql: remoteAnswers },
]);

/**
 * Schema and migrations on real database files: the fresh schema matches
 * the drizzle definitions exactly, reopening is a no-op, a newer database is refused untouched,
 * a failing migration leaves nothing behind, and a database written by an older schema version
 * upgrades with its rows intact. What would break without these: silent schema drift between
 * the SQL and the typed queries, or an upgrade that loses data.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS, type Migration } from "./migrations.ts";
import {
  artifacts,
  cronFires,
  humanInputRequests,
  runEvents,
  runRequestKeys,
  runs,
  schemaMigrations,
  webhookDeliveries,
  workflows,
  workflowVersions,
} from "./schema.ts";
import { migrate } from "./migrate.ts";
import { openStore, openStoreWith } from "./open.ts";
import { testManifest } from "./testing/fixtures.ts";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-migrate-"));
  path = join(dir, "promenade.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function inspectDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function errorOf(fn: () => unknown): { code?: string; message: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

const TABLES: SQLiteTable[] = [
  workflows,
  runs,
  runEvents,
  cronFires,
  artifacts,
  humanInputRequests,
  runRequestKeys,
  webhookDeliveries,
  workflowVersions,
  schemaMigrations,
];

/**
 * A database as an older release left it: only the migrations up to `version`, and rows written
 * by plain SQL in that release's shape (the current store's statements need the current schema).
 */
function legacyDatabase(version: number, write: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= version),
      { now: () => 1_000, label: path },
    );
    write(db);
  } finally {
    db.close();
  }
}

const LEGACY_MANIFEST = JSON.stringify(testManifest("legacy"));

function insertLegacyWorkflow(db: Database.Database, config = "{}"): void {
  db.prepare(
    `INSERT INTO workflows (id, slug, manifest, program, config, created_at, updated_at)
     VALUES ('wf1', 'legacy', ?, 'export {}', ?, 900, 1000)`,
  ).run(LEGACY_MANIFEST, config);
}

function insertLegacyRun(db: Database.Database, id: string, triggerKind: string): void {
  db.prepare(
    `INSERT INTO runs (id, workflow_id, status, trigger_kind, input, created_at)
     VALUES (?, 'wf1', 'queued', ?, '{"n":1}', 1000)`,
  ).run(id, triggerKind);
  const event = { kind: "run_status", status: "queued", runId: id, turnId: id, seq: 1, t: 1000 };
  db.prepare("INSERT INTO run_events (run_id, cursor, event) VALUES (?, 1, ?)").run(
    id,
    JSON.stringify(event),
  );
}

describe("fresh schema", () => {
  it("has exactly the tables, columns and indexes the drizzle definitions and spec declare", () => {
    openStore({ path }).close();
    inspectDb((db) => {
      const tables = db
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all() as { name: string; sql: string }[];
      expect(tables.map((t) => t.name).sort()).toEqual(
        [
          "artifacts",
          "cron_fires",
          "human_input_requests",
          "run_events",
          "run_request_keys",
          "runs",
          "schema_migrations",
          "webhook_deliveries",
          "workflow_versions",
          "workflows",
        ].sort(),
      );
      for (const table of tables) expect(table.sql).toMatch(/\)\s*STRICT/);
      for (const name of ["run_events", "cron_fires", "run_request_keys", "webhook_deliveries"]) {
        expect(tables.find((t) => t.name === name)?.sql).toMatch(/WITHOUT ROWID/);
      }
      for (const table of TABLES) {
        const config = getTableConfig(table);
        const columns = db.pragma(`table_info(${config.name})`) as {
          name: string;
          type: string;
          notnull: number;
        }[];
        expect(columns.map((c) => c.name)).toEqual(config.columns.map((c) => c.name));
        for (const column of config.columns) {
          const actual = columns.find((c) => c.name === column.name);
          expect(actual?.type, `${config.name}.${column.name}`).toBe(
            column.getSQLType().toUpperCase(),
          );
          expect(
            actual?.notnull === 1 || column.primary,
            `${config.name}.${column.name} NOT NULL`,
          ).toBe(column.notNull);
        }
      }
      const indexes = (
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
          .all() as { name: string }[]
      ).map((i) => i.name);
      expect(indexes.sort()).toEqual(
        [
          "artifacts_run_id",
          "cron_fires_run_id",
          "human_input_requests_run_key",
          "human_input_requests_status",
          "run_events_channel",
          "run_request_keys_expiry",
          "run_request_keys_run_id",
          "runs_created_at",
          "runs_parent_idempotency_key",
          "runs_parent_run_id",
          "runs_status",
          "runs_version_id",
          "runs_workflow_id_status",
          "webhook_deliveries_expiry",
          "workflow_versions_number",
          "webhook_deliveries_run_id",
        ].sort(),
      );
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    });
  });

  it("records each migration and applies nothing on reopen", () => {
    const first = openStore({ path, now: () => 1234 });
    first.close();
    const second = openStore({ path, now: () => 9999 });
    second.close();
    const rows = inspectDb((db) =>
      db.prepare("SELECT * FROM schema_migrations ORDER BY version").all(),
    );
    expect(rows).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1234 })),
    );
  });
});

describe("refusals", () => {
  it("refuses a database newer than the code with INTERNAL and leaves it untouched", () => {
    openStore({ path }).close();
    inspectDb((db) => db.pragma("user_version = 99"));
    const error = errorOf(() => openStore({ path }));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toMatch(/version 99, newer/);
    expect(error.hint).toMatch(/Upgrade/);
    expect(inspectDb((db) => db.pragma("user_version", { simple: true }))).toBe(99);
  });

  it("refuses a newer version recorded in schema_migrations too", () => {
    openStore({ path }).close();
    inspectDb((db) =>
      db.prepare("INSERT INTO schema_migrations VALUES (50, '0050_future', 0)").run(),
    );
    expect(errorOf(() => openStore({ path })).code).toBe("INTERNAL");
  });

  it("rolls a failing migration back entirely: no table, version unchanged, open fails", () => {
    const broken: Migration[] = [
      ...MIGRATIONS,
      {
        version: 100,
        name: "0100_broken",
        sql: "CREATE TABLE half_done (x INTEGER) STRICT; CREATE TABLE broken (;",
      },
    ];
    const error = errorOf(() => openStoreWith({ path }, broken));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toMatch(/0100_broken/);
    inspectDb((db) => {
      expect(
        db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get(),
      ).toBeUndefined();
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    });
    // The database still opens with the real list.
    openStore({ path }).close();
  });

  it("rolls back a failing first migration leaving no tables at all", () => {
    const error = errorOf(() =>
      openStoreWith({ path }, [
        { version: 1, name: "0001_bad", sql: "CREATE TABLE t (x) STRICT; nonsense;" },
      ]),
    );
    expect(error.code).toBe("INTERNAL");
    inspectDb((db) => {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([]);
      expect(db.pragma("user_version", { simple: true })).toBe(0);
    });
  });

  it("rejects a migration list that is not strictly ascending with INTERNAL", () => {
    const list = [MIGRATIONS[1], MIGRATIONS[0]] as Migration[];
    expect(errorOf(() => openStoreWith({ path }, list)).code).toBe("INTERNAL");
    expect(
      errorOf(() => openStoreWith({ path }, [{ version: 0, name: "zero", sql: "" }])).code,
    ).toBe("INTERNAL");
  });

  it("rejects bad options and a missing directory with VALIDATION", () => {
    expect(errorOf(() => openStore({ path: "" })).code).toBe("VALIDATION");
    expect(errorOf(() => openStore({ path: join(dir, "missing", "promenade.db") })).code).toBe(
      "VALIDATION",
    );
    expect(errorOf(() => openStore({ path, maxValueBytes: 0 })).code).toBe("VALIDATION");
    expect(errorOf(() => openStore(null as never)).code).toBe("VALIDATION");
  });

  it("refuses a directory or a file that is not a database with a clear error", () => {
    expect(errorOf(() => openStore({ path: dir })).code).toBe("VALIDATION");
    writeFileSync(path, "this is not a database, just text that is long enough to have a header");
    const error = errorOf(() => openStore({ path }));
    expect(error.code).toBe("INTERNAL");
    expect(error.message).toContain(path);
  });

  it("refuses a second store on the same file with CONFLICT while the first is open", () => {
    const first = openStore({ path });
    const error = errorOf(() => openStore({ path }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toMatch(/already open/);
    first.close();
    openStore({ path }).close();
  });
});

describe("upgrade from an older schema version", () => {
  it("opens a version-1 database written by an older release and keeps every row", () => {
    // Build the database exactly as release 1 left it: only migration 1, rows in its shape.
    legacyDatabase(1, (db) => {
      insertLegacyWorkflow(db, '{"catch_up":"once"}');
      insertLegacyRun(db, "run1", "cron");
      db.prepare(
        `INSERT INTO cron_fires (workflow_id, trigger_index, fire_time, run_id, created_at)
         VALUES ('wf1', 0, 60000, 'run1', 1000)`,
      ).run();
    });
    expect(inspectDb((db) => db.pragma("user_version", { simple: true }))).toBe(1);

    const store = openStore({ path });
    try {
      expect(store.getWorkflow("legacy")).toMatchObject({
        id: "wf1",
        slug: "legacy",
        manifest: testManifest("legacy"),
        program: "export {}",
        config: { catch_up: "once" },
        createdAt: 900,
        updatedAt: 1000,
      });
      const run = store.getRun("run1");
      expect(run).toMatchObject({
        workflowId: "wf1",
        status: "queued",
        triggerKind: "cron",
        input: { n: 1 },
        createdAt: 1000,
      });
      expect(store.listEvents("run1", { channels: ["lifecycle"] }).map((e) => e.cursor)).toEqual([
        1,
      ]);
      expect(store.lastCronFire("wf1", 0)).toBe(60_000);
      expect(store.listRuns({ workflowId: "wf1", statuses: ["queued"] })).toEqual([run]);
    } finally {
      store.close();
    }
    expect(inspectDb((db) => db.pragma("user_version", { simple: true }))).toBe(
      MIGRATIONS.at(-1)?.version,
    );
  });

  it("opens a version-5 database: each workflow becomes its version 1 and its runs point at it", () => {
    legacyDatabase(5, (db) => {
      insertLegacyWorkflow(db);
      insertLegacyRun(db, "run1", "manual");
    });
    const store = openStore({ path, now: () => 5_000 });
    try {
      const [v1] = store.listWorkflowVersions("wf1");
      expect(store.listWorkflowVersions("wf1")).toHaveLength(1);
      expect(v1).toMatchObject({ id: "wf1", workflowId: "wf1", number: 1, deployedAt: 1000 });
      expect(v1?.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(store.getWorkflowVersion("wf1", 1)).toMatchObject({
        program: "export {}",
        config: {},
        manifest: testManifest("legacy"),
        skills: null,
      });
      expect(store.getRun("run1")).toMatchObject({ versionId: "wf1", version: 1 });
      // Redeploying the same content adds nothing; new content is version 2.
      store.upsertWorkflow({
        slug: "legacy",
        manifest: testManifest("legacy"),
        program: "export {}",
      });
      expect(store.listWorkflowVersions("wf1").map((v) => v.number)).toEqual([1]);
      store.upsertWorkflow({ slug: "legacy", manifest: testManifest("legacy"), program: "// 2" });
      expect(store.listWorkflowVersions("wf1").map((v) => v.number)).toEqual([2, 1]);
      expect(store.getRun("run1")).toMatchObject({ versionId: "wf1", version: 1 });
    } finally {
      store.close();
    }
    // The hash is filled in once and kept.
    const stored = inspectDb(
      (db) =>
        db.prepare("SELECT hash FROM workflow_versions WHERE id = 'wf1'").get() as { hash: string },
    );
    const reopened = openStore({ path });
    try {
      expect(reopened.listWorkflowVersions("wf1").at(-1)?.hash).toBe(stored.hash);
    } finally {
      reopened.close();
    }
  });

  it("opens a version-2 database and files human-input events under lifecycle", () => {
    const run = { id: "run1" };
    legacyDatabase(2, (db) => {
      insertLegacyWorkflow(db);
      insertLegacyRun(db, run.id, "manual");
      const phase = {
        kind: "phase",
        name: "p",
        id: "p",
        runId: run.id,
        turnId: run.id,
        seq: 2,
        t: 1,
      };
      db.prepare("INSERT INTO run_events (run_id, cursor, event) VALUES (?, 2, ?)").run(
        run.id,
        JSON.stringify(phase),
      );
    });

    const store = openStore({ path });
    try {
      const { request } = store.createInputRequest(run.id, {
        key: "ship",
        prompt: "Ship?",
        inputSpec: { kind: "text" },
        stamp: { cursor: 3, seq: 3 },
      });
      store.settleInputRequest(run.id, "ship", {
        status: "resolved",
        response: { value: "yes" },
        stamp: { cursor: 4, seq: 4 },
      });
      expect(store.listEvents(run.id, { channels: ["lifecycle"] }).map((e) => e.cursor)).toEqual([
        1, 3, 4,
      ]);
      expect(store.listEvents(run.id, { channels: ["phase"] }).map((e) => e.cursor)).toEqual([2]);
      expect(store.listEvents(run.id, { channels: ["agent"] })).toEqual([]);
      expect(store.listInputRequests({ runId: run.id }).map((r) => r.id)).toEqual([request.id]);
    } finally {
      store.close();
    }
  });
});

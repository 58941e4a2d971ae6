/**
 * PostgreSQL migrations on a real server: several processes' stores opening one empty database
 * at once apply each migration exactly once; the schema is exactly what the drizzle tables
 * declare; a database newer than the code is refused untouched; a failing migration leaves
 * nothing behind.
 */
import pg from "pg";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { testManifest } from "../testing/fixtures.ts";
import { PG_MIGRATIONS } from "./migrations.ts";
import {
  artifacts,
  clusterNodes,
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
import { openPgStore, openPgStoreWith } from "./open.ts";
import type { PgStore } from "./store.ts";

const databases: TestDatabase[] = [];
const stores: PgStore[] = [];

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.drop();
});

describe("PostgreSQL migrations", () => {
  it("apply exactly once when eight stores open the same empty database at the same time", async () => {
    const { url } = await database();
    // Not exclusive: the eight stores share the database on purpose.
    const opened = await Promise.all(
      Array.from({ length: 8 }, () => openPgStore({ url, exclusive: false })),
    );
    stores.push(...opened);
    const applied = await query<{ version: number; name: string }>(
      url,
      "SELECT version, name FROM schema_migrations ORDER BY version",
    );
    expect(applied).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    // Every store works on the one schema.
    const [first, second] = opened;
    const workflow = await first!.upsertWorkflow({
      slug: "echo",
      manifest: testManifest("echo"),
      program: "export {}",
    });
    expect((await second!.getWorkflow("echo"))?.id).toBe(workflow.id);
  });

  it("has exactly the tables and columns the drizzle definitions declare", async () => {
    const { url } = await database();
    stores.push(await openPgStore({ url }));
    const tables: PgTable[] = [
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
      clusterNodes,
    ];
    const present = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(present.map((t) => t.table_name)).toEqual(
      tables.map((t) => getTableConfig(t).name).sort(),
    );
    for (const table of tables) {
      const config = getTableConfig(table);
      const columns = await query<{ column_name: string; is_nullable: string; data_type: string }>(
        url,
        `SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_name = '${config.name}' ORDER BY ordinal_position`,
      );
      expect(columns.map((c) => c.column_name).sort()).toEqual(
        config.columns.map((c) => c.name).sort(),
      );
      for (const column of config.columns) {
        const actual = columns.find((c) => c.column_name === column.name);
        expect(actual?.is_nullable, `${config.name}.${column.name}`).toBe(
          column.notNull ? "NO" : "YES",
        );
        expect(actual?.data_type, `${config.name}.${column.name}`).toBe(column.getSQLType());
      }
    }
  });

  it("upgrades a database from before versions: each workflow becomes its version 1 and its runs point at it", async () => {
    const { url } = await database();
    await (await openPgStoreWith({ url }, PG_MIGRATIONS.slice(0, 4))).close();
    const manifest = JSON.stringify(testManifest("legacy"));
    await query(
      url,
      `INSERT INTO workflows (id, slug, manifest, program, config, created_at, updated_at)
       VALUES ('wf1', 'legacy', '${manifest}', 'export {}', '{}', 900, 1000);
       INSERT INTO runs (id, workflow_id, status, trigger_kind, created_at)
       VALUES ('run1', 'wf1', 'queued', 'manual', 1000)`,
    );
    const store = await openPgStore({ url });
    stores.push(store);
    const versions = await store.listWorkflowVersions("wf1");
    expect(versions).toEqual([
      {
        id: "wf1",
        workflowId: "wf1",
        number: 1,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
        deployedAt: 1000,
      },
    ]);
    expect(await store.getWorkflowVersion("wf1", 1)).toMatchObject({
      program: "export {}",
      skills: null,
    });
    expect(await store.getRun("run1")).toMatchObject({ versionId: "wf1", version: 1 });
    await store.upsertWorkflow({
      slug: "legacy",
      manifest: testManifest("legacy"),
      program: "// 2",
    });
    expect((await store.listWorkflowVersions("wf1")).map((v) => v.number)).toEqual([2, 1]);
  });

  it("refuses a database at a newer schema version and leaves it untouched", async () => {
    const { url } = await database();
    stores.push(await openPgStore({ url }));
    await query(
      url,
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future', 0)",
    );
    const error = await openPgStore({ url, exclusive: false }).then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message: string; hint?: string },
    );
    expect(error?.code).toBe("INTERNAL");
    expect(error?.message).toMatch(/schema version 99, newer than this @promenade\/store knows/);
    expect(error?.hint).toMatch(/Upgrade @promenade\/engine/);
    const versions = await query<{ version: number }>(
      url,
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    expect(versions.map((v) => v.version)).toEqual([...PG_MIGRATIONS.map((m) => m.version), 99]);
  });

  it("rolls back every migration of an open when one of them fails", async () => {
    const { url } = await database();
    const broken = [
      ...PG_MIGRATIONS,
      { version: 1000, name: "1000_broken", sql: "CREATE TABLE nope (id text); SELECT 1/0;" },
    ];
    const error = await openPgStoreWith({ url }, broken).then(
      () => undefined,
      (caught: unknown) => caught as { code?: string; message: string },
    );
    expect(error?.code).toBe("INTERNAL");
    expect(error?.message).toMatch(/Migration 1000_broken .* failed and was rolled back/);
    const present = await query<{ table_name: string }>(
      url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    expect(present).toEqual([]);
    // The real list still applies cleanly afterwards.
    stores.push(await openPgStore({ url }));
  });
});

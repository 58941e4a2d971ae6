/**
 * Expired request keys and webhook delivery keys on a real PostgreSQL server: each write that
 * adds one deletes a small batch of its workflow's expired rows, so the tables stay bounded by
 * what is still within its window. What would break: every `Idempotency-Key` and every delivery
 * ever received kept forever, or one write deleting an unbounded number of rows.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { createManualClock } from "@promenade/workflow/testing";
import { testManifest } from "../testing/fixtures.ts";
import { openPgStore } from "./open.ts";
import type { PgStore } from "./store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

let database: TestDatabase | undefined;
let store: PgStore | undefined;
afterEach(async () => {
  await store?.close();
  await database?.drop();
});

/** Rows per table and workflow slug. */
async function counts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; n: string }>(
      `SELECT 'keys:' || w.slug AS name, COUNT(*) AS n FROM run_request_keys k JOIN workflows w ON w.id = k.workflow_id GROUP BY w.slug
       UNION ALL
       SELECT 'deliveries:' || w.slug, COUNT(*) FROM webhook_deliveries d JOIN workflows w ON w.id = d.workflow_id GROUP BY w.slug`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.n)]));
  } finally {
    await client.end();
  }
}

describe("expired request keys and delivery keys on PostgreSQL", () => {
  it("are deleted in batches of 32 per write, per workflow", async () => {
    database = await createTestDatabase();
    const clock = createManualClock();
    const opened = await openPgStore({ url: database.url, now: () => clock.now() });
    store = opened;
    const ids = new Map<string, string>();
    for (const slug of ["echo", "other"]) {
      const workflow = await opened.upsertWorkflow({
        slug,
        manifest: testManifest(slug),
        program: "",
      });
      ids.set(slug, workflow.id);
    }
    const write = async (slug: string, n: number): Promise<void> => {
      await opened.createRun({
        workflowId: ids.get(slug) ?? "",
        triggerKind: "webhook",
        requestKey: { key: `key-${String(n)}`, fingerprint: "f" },
        delivery: {
          hookIndex: 0,
          keys: [`delivery-${String(n)}`],
          deliveryId: null,
          expiresAt: clock.now() + 300_000,
        },
      });
    };
    for (let n = 0; n < 40; n++) await write("echo", n);
    for (let n = 0; n < 3; n++) await write("other", n);
    clock.advance(DAY_MS);
    await write("echo", 100);
    // 40 expired, 32 deleted, 1 added; the other workflow's expired rows wait for its own writes.
    expect(await counts(database.url)).toEqual({
      "keys:echo": 9,
      "deliveries:echo": 9,
      "keys:other": 3,
      "deliveries:other": 3,
    });
    await write("echo", 101);
    await write("other", 101);
    expect(await counts(database.url)).toEqual({
      "keys:echo": 2,
      "deliveries:echo": 2,
      "keys:other": 1,
      "deliveries:other": 1,
    });
  });
});

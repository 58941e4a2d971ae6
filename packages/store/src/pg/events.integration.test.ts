/**
 * The event log on PostgreSQL at volume: 20,000 events appended in supervisor-sized batches
 * keep strictly increasing cursors, read back exactly as written (also by channel) and reach
 * the feed in cursor order after their commit; two stores racing for one cursor get exactly one
 * winner and one `CONFLICT`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { testManifest } from "../testing/fixtures.ts";
import type { EventAppend, PublishedEvent } from "../types.ts";
import { openPgStore } from "./open.ts";
import type { PgStore } from "./store.ts";

const STRIDE = 1_000_000;
const stores: PgStore[] = [];
const databases: TestDatabase[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.drop();
});

async function setup(): Promise<{ store: PgStore; url: string; runId: string }> {
  const db = await createTestDatabase();
  databases.push(db);
  const store = await openPgStore({ url: db.url });
  stores.push(store);
  const workflow = await store.upsertWorkflow({
    slug: "volume",
    manifest: testManifest("volume"),
    program: "export {}",
  });
  const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
  return { store, url: db.url, runId: run.id };
}

/** Event `index` (0-based) of a run: phases, log lines with awkward text, and agent deltas. */
function eventAt(runId: string, index: number): EventAppend {
  const block = 1 + Math.floor(index / 5_000);
  const seq = (index % 5_000) + 1;
  const cursor = block * STRIDE + seq;
  const envelope = { runId, turnId: runId, seq, t: 1_700_000_000_000 + index };
  switch (index % 3) {
    case 0:
      return {
        cursor,
        event: {
          kind: "phase",
          name: `step ${String(index)}`,
          id: `p${String(index)}`,
          ...envelope,
        },
      };
    case 1:
      return {
        cursor,
        event: {
          kind: "program_output",
          stream: "stdout",
          text: `line ${String(index)} "quoted" \\ back\tslash ünïcödé 🚀 \u0001 \u0000`,
          ...envelope,
        },
      };
    default:
      return {
        cursor,
        event: {
          kind: "text_delta",
          blockId: "b1",
          text: `δ${String(index)}`,
          ...envelope,
          turnId: `turn-${String(block)}`,
        },
      };
  }
}

describe("PostgreSQL event log", () => {
  it("appends 20,000 events in batches with strictly increasing cursors and reads them back exactly", async () => {
    const { store, runId } = await setup();
    const published: PublishedEvent[] = [];
    store.subscribe((row) => published.push(row));
    const all = Array.from({ length: 20_000 }, (_, index) => eventAt(runId, index));
    // Batches of the sizes the supervisor flushes: whatever accumulated, up to 2,000.
    const sizes = [1, 7, 100, 2_000, 350, 42];
    let offset = 0;
    for (let round = 0; offset < all.length; round++) {
      const size = sizes[round % sizes.length]!;
      await store.appendEvents(runId, all.slice(offset, offset + size));
      offset += size;
    }

    const rows = await store.listEvents(runId, { afterCursor: 1 });
    expect(rows).toHaveLength(20_000);
    for (let index = 1; index < rows.length; index++) {
      expect(rows[index]!.cursor).toBeGreaterThan(rows[index - 1]!.cursor);
    }
    expect(rows.map((row) => ({ cursor: row.cursor, event: row.event }))).toEqual(all);
    expect(await store.maxCursor(runId)).toBe(all[all.length - 1]!.cursor);

    // The feed saw each event once, after its commit, in cursor order.
    expect(published.map((row) => row.cursor)).toEqual(all.map((row) => row.cursor));
    expect(new Set(published.map((row) => row.workflowSlug))).toEqual(new Set(["volume"]));

    const logs = await store.listEvents(runId, {
      channels: ["log"],
      afterCursor: 3 * STRIDE,
      limit: 10,
    });
    expect(logs).toHaveLength(10);
    expect(
      logs.every((row) => row.event.kind === "program_output" && row.cursor > 3 * STRIDE),
    ).toBe(true);
    const lifecycle = await store.listEvents(runId, { channels: ["lifecycle"] });
    expect(lifecycle.map((row) => row.cursor)).toEqual([1]);
  });

  it("lets exactly one of two stores racing for the same cursors win; the other gets CONFLICT and writes nothing", async () => {
    const { store, url, runId } = await setup();
    // A second store on the same database on purpose (an engine would be refused).
    const other = await openPgStore({ url, exclusive: false });
    stores.push(other);
    const mine = [eventAt(runId, 0), eventAt(runId, 1)];
    const theirs = [eventAt(runId, 1), eventAt(runId, 2)];
    const results = await Promise.allSettled([
      store.appendEvents(runId, mine),
      other.appendEvents(runId, theirs),
    ]);
    const rejected = results.filter((result) => result.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: "CONFLICT" });
    const cursors = (await store.listEvents(runId)).map((row) => row.cursor);
    expect([
      [1, ...mine.map((row) => row.cursor)],
      [1, ...theirs.map((row) => row.cursor)],
    ]).toContainEqual(cursors);
  });
});

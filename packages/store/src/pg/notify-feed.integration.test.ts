/**
 * Listening stores on one PostgreSQL database, as the nodes of a cluster open them: each
 * subscriber gets every event of every run — its own store's and the other stores' — exactly
 * once, in cursor order per run, from the moment its store opened; across a lost listening
 * connection, a writer that does not notify, and a run whose writing moves from one store to
 * another.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { testManifest } from "../testing/fixtures.ts";
import type { EventAppend, PublishedEvent } from "../types.ts";
import { openPgStore, type OpenPgStoreOptions } from "./open.ts";
import type { PgStore } from "./store.ts";

const stores: PgStore[] = [];
const databases: TestDatabase[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.drop();
});

async function database(): Promise<string> {
  const db = await createTestDatabase();
  databases.push(db);
  return db.url;
}

async function open(url: string, options: Partial<OpenPgStoreOptions> = {}): Promise<PgStore> {
  const store = await openPgStore({
    url,
    exclusive: false,
    // Polls so rare that only notifications (and the catch-up after a reconnect) deliver.
    listen: { pollMs: 600_000 },
    log: () => undefined,
    ...options,
  });
  stores.push(store);
  return store;
}

/** Records what a store's subscribers see. */
function record(store: PgStore): PublishedEvent[] {
  const seen: PublishedEvent[] = [];
  store.subscribe((row) => seen.push(row));
  return seen;
}

function logEvent(runId: string, cursor: number): EventAppend {
  return {
    cursor,
    event: {
      kind: "program_output",
      stream: "stdout",
      text: `line ${String(cursor)}`,
      runId,
      turnId: runId,
      seq: cursor,
      t: 1_700_000_000_000 + cursor,
    },
  };
}

async function newRun(store: PgStore, slug = "feed"): Promise<string> {
  const workflow = await store.upsertWorkflow({
    slug,
    manifest: testManifest(slug),
    program: "export {}",
  });
  const { run } = await store.createRun({ workflowId: workflow.id, triggerKind: "manual" });
  return run.id;
}

/** Waits (up to 60 s) until `seen` holds `count` events of `runId`. */
async function until(seen: readonly PublishedEvent[], runId: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (seen.filter((row) => row.runId === runId).length < count) {
    if (Date.now() > deadline) {
      throw new Error(
        `saw ${String(seen.filter((row) => row.runId === runId).length)} of ${String(count)} events of ${runId}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function cursorsOf(seen: readonly PublishedEvent[], runId: string): number[] {
  return seen.filter((row) => row.runId === runId).map((row) => row.cursor);
}

async function writeInBatches(
  store: PgStore,
  runId: string,
  from: number,
  to: number,
): Promise<number[]> {
  const cursors: number[] = [];
  for (let cursor = from; cursor <= to;) {
    const size = Math.min(1 + (cursor % 7), to - cursor + 1);
    const batch = Array.from({ length: size }, (_, i) => logEvent(runId, cursor + i));
    await store.appendEvents(runId, batch);
    cursors.push(...batch.map((row) => row.cursor));
    cursor += size;
  }
  return cursors;
}

describe("listening PostgreSQL stores", () => {
  it("deliver another store's events live, exactly once and in order, and their own once", async () => {
    const url = await database();
    const writer = await open(url);
    const reader = await open(url);
    const written = record(writer);
    const read = record(reader);

    const runId = await newRun(writer);
    const cursors = [1, ...(await writeInBatches(writer, runId, 2, 300))];

    await until(read, runId, cursors.length);
    expect(cursorsOf(read, runId)).toEqual(cursors);
    expect(read.find((row) => row.runId === runId)).toMatchObject({
      workflowSlug: "feed",
      event: { kind: "run_status", status: "queued" },
    });
    expect(read.at(-1)?.event).toMatchObject({ kind: "program_output", text: "line 300" });
    // The writer's own subscribers saw each event once (its notifications are not re-delivered).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cursorsOf(written, runId)).toEqual(cursors);
    expect(cursorsOf(read, runId)).toEqual(cursors);
  });

  it("do not replay events committed before they opened", async () => {
    const url = await database();
    const writer = await open(url);
    const runId = await newRun(writer);
    await writeInBatches(writer, runId, 2, 50);

    const reader = await open(url);
    const read = record(reader);
    await writeInBatches(writer, runId, 51, 60);
    await until(read, runId, 10);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cursorsOf(read, runId)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
  });

  it("catch up what was committed while their listening connection was cut, without duplicates", async () => {
    const url = await database();
    const writer = await open(url);
    const reader = await open(url);
    const read = record(reader);
    const runId = await newRun(writer);
    const before = [1, ...(await writeInBatches(writer, runId, 2, 40))];
    await until(read, runId, before.length);

    // Cut the reader's listening session from the server side, and write meanwhile.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = 'promenade (event feed)' AND datname = current_database()`,
      );
      expect(rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    const during = await writeInBatches(writer, runId, 41, 200);
    const other = await newRun(writer, "feed-two");
    const otherCursors = [1, ...(await writeInBatches(writer, other, 2, 30))];

    await until(read, runId, before.length + during.length);
    await until(read, other, otherCursors.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cursorsOf(read, runId)).toEqual([...before, ...during]);
    expect(cursorsOf(read, other)).toEqual(otherCursors);
  });

  it("find the events of a writer that does not notify by polling", async () => {
    const url = await database();
    // A tool's store: it shares the database but does not listen, so it announces nothing.
    const quiet = await open(url, { listen: false });
    const reader = await open(url, { listen: { pollMs: 200 } });
    const read = record(reader);
    const runId = await newRun(quiet);
    const cursors = [1, ...(await writeInBatches(quiet, runId, 2, 25))];
    await until(read, runId, cursors.length);
    expect(cursorsOf(read, runId)).toEqual(cursors);
  });

  it("keep one order when a run's writing moves from one store to another", async () => {
    const url = await database();
    const first = await open(url);
    const second = await open(url);
    const third = await open(url);
    const seenFirst = record(first);
    const seenSecond = record(second);
    const seenThird = record(third);
    const runId = await newRun(first);
    const early = [1, ...(await writeInBatches(first, runId, 2, 80))];
    await until(seenSecond, runId, early.length);
    // The run moves to the second store (as a takeover does) and continues the log there.
    const late = await writeInBatches(second, runId, 81, 160);
    const all = [...early, ...late];
    for (const seen of [seenFirst, seenSecond, seenThird]) await until(seen, runId, all.length);
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const seen of [seenFirst, seenSecond, seenThird]) {
      expect(cursorsOf(seen, runId)).toEqual(all);
    }
  });

  it("refuse a listen option that is neither a boolean nor an object", async () => {
    const url = await database();
    await expect(
      openPgStore({ url, exclusive: false, listen: "yes" as unknown as boolean }),
    ).rejects.toMatchObject({ code: "VALIDATION", message: expect.stringContaining("listen") });
  });
});

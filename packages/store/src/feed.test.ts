/**
 * The SQLite store's feed: events reach listeners synchronously right after the COMMIT (in the
 * same turn as the write), never from inside an open transaction, never after a rollback, in
 * commit order even when a listener writes, and a listener's error goes to `onListenerError`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, outputLineEvent, testManifest } from "./testing/fixtures.ts";
import type { OpenStoreOptions } from "./open.ts";
import type { PublishedEvent, Store } from "./types.ts";

const STRIDE = 1_000_000;

let open: Store[] = [];
afterEach(() => {
  for (const store of open) store.close();
  open = [];
});

function setup(options: Omit<OpenStoreOptions, "path"> = {}): {
  store: Store;
  workflowId: string;
  seen: PublishedEvent[];
} {
  const store = createMemoryStore(options);
  open.push(store);
  const workflowId = store.upsertWorkflow({
    slug: "echo",
    manifest: testManifest("echo"),
    program: "export {}",
  }).id;
  const seen: PublishedEvent[] = [];
  store.subscribe((row) => seen.push(row));
  return { store, workflowId, seen };
}

describe("feed", () => {
  it("publishes synchronously, before the write returns", () => {
    const { store, workflowId, seen } = setup();
    const { run } = store.createRun({ workflowId, triggerKind: "manual" });
    expect(seen.map((row) => [row.runId, row.cursor])).toEqual([[run.id, 1]]);
    store.appendEvents(run.id, [{ cursor: STRIDE + 1, event: outputLineEvent(run.id, "a") }]);
    expect(seen).toHaveLength(2);
  });

  it("holds a transaction's events until its outermost COMMIT, before the afterCommit callbacks", () => {
    const { store, workflowId, seen } = setup();
    const order: string[] = [];
    store.subscribe((row) => order.push(`event ${String(row.cursor)}`));
    store.transaction(() => {
      const { run } = store.createRun({ workflowId, triggerKind: "manual" });
      store.afterCommit(() => order.push("afterCommit"));
      store.transaction(() => {
        store.appendEvents(run.id, [{ cursor: STRIDE + 1, event: outputLineEvent(run.id, "a") }]);
      });
      expect(seen).toEqual([]);
    });
    expect(order).toEqual(["event 1", `event ${String(STRIDE + 1)}`, "afterCommit"]);
  });

  it("publishes nothing of a rolled-back transaction, nor of a savepoint that rolled back", () => {
    const { store, workflowId, seen } = setup();
    expect(() =>
      store.transaction(() => {
        store.createRun({ workflowId, triggerKind: "manual" });
        throw new Error("rollback");
      }),
    ).toThrow("rollback");
    expect(seen).toEqual([]);
    const runId = store.transaction(() => {
      const { run } = store.createRun({ workflowId, triggerKind: "manual" });
      expect(() =>
        store.appendEvents(run.id, [
          { cursor: STRIDE + 1, event: outputLineEvent(run.id, "a") },
          { cursor: 1, event: outputLineEvent(run.id, "b") },
        ]),
      ).toThrow(/cursor 1/);
      return run.id;
    });
    expect(seen.map((row) => [row.runId, row.cursor])).toEqual([[runId, 1]]);
  });

  it("delivers writes made by a listener after the event in hand, so every listener sees commit order", () => {
    const { store, workflowId } = setup();
    const first = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
    const second = store.createRun({ workflowId, triggerKind: "manual" }).run.id;
    const writer: string[] = [];
    const reader: string[] = [];
    store.subscribe((row) => {
      writer.push(`${row.runId}:${String(row.cursor)}`);
      // On the first run's start, the listener starts the second (a gated run released).
      if (row.runId === first && row.event.kind === "run_status" && row.event.status === "running")
        store.commitStatus(second, { to: "running", expect: ["queued"] });
    });
    store.subscribe((row) => reader.push(`${row.runId}:${String(row.cursor)}`));
    store.commitStatus(first, {
      to: "running",
      expect: ["queued"],
      pending: [{ cursor: STRIDE + 1, event: outputLineEvent(first, "a") }],
      stamp: { cursor: STRIDE + 2, seq: 2 },
    });
    const expected = [
      `${first}:${String(STRIDE + 1)}`,
      `${first}:${String(STRIDE + 2)}`,
      `${second}:${String(STRIDE + 1)}`,
    ];
    expect(writer).toEqual(expected);
    expect(reader).toEqual(expected);
  });

  it("reports a listener's error to onListenerError with the event, and keeps going", () => {
    const failures: [unknown, PublishedEvent][] = [];
    const boom = new Error("listener failure");
    const { store, workflowId, seen } = setup({
      onListenerError: (error, row) => {
        failures.push([error, row]);
        throw new Error("the hook failing too is dropped");
      },
    });
    store.subscribe(() => {
      throw boom;
    });
    const after: PublishedEvent[] = [];
    store.subscribe((row) => after.push(row));
    const { run } = store.createRun({ workflowId, triggerKind: "manual" });
    expect(failures).toEqual([[boom, seen[0]]]);
    expect(after).toEqual(seen);
    expect(store.getRun(run.id)?.status).toBe("queued");
  });

  it("calls a function subscribed twice twice; each unsubscribe removes its own subscription", () => {
    const { store, workflowId } = setup();
    const calls: number[] = [];
    const listener = (row: PublishedEvent) => calls.push(row.cursor);
    const a = store.subscribe(listener);
    store.subscribe(listener);
    store.createRun({ workflowId, triggerKind: "manual" });
    expect(calls).toEqual([1, 1]);
    a();
    store.createRun({ workflowId, triggerKind: "manual" });
    expect(calls).toEqual([1, 1, 1]);
  });

  it("rejects a listener that is not a function with VALIDATION", () => {
    const { store } = setup();
    expect(() => store.subscribe(42 as never)).toThrow(/function/);
  });
});

/**
 * Cluster mode of the PostgreSQL store, with two (or more) stores on one database standing for
 * nodes: a claim never hands one run to two nodes; a serial workflow never has two active runs
 * across nodes under concurrent claims; a node whose lease was taken over cannot write into the
 * run any more (every kind of write is refused with a lease-lost error); an expired lease is
 * taken over with the next epoch.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { testManifest, statusEvent } from "../testing/fixtures.ts";
import { createTestDatabase, type TestDatabase } from "../testing/pg-database.ts";
import { isLeaseLost } from "./cluster.ts";
import { openPgStore } from "./open.ts";
import type { PgStore } from "./store.ts";

const stores: PgStore[] = [];
const databases: TestDatabase[] = [];
const LEASE_MS = 1_000;

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.drop();
});

async function database(): Promise<string> {
  const db = await createTestDatabase();
  databases.push(db);
  return db.url;
}

async function node(url: string, nodeId: string): Promise<PgStore> {
  const store = await openPgStore({ url, cluster: { nodeId, leaseMs: LEASE_MS } });
  stores.push(store);
  return store;
}

function cluster(store: PgStore) {
  if (store.cluster === null) throw new Error("not a cluster store");
  return store.cluster;
}

/** Expires every lease now (what the passing of the lease time does), on the database clock. */
async function expireLeases(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      "UPDATE runs SET lease_expires_at = now() - interval '1 second' WHERE node_id IS NOT NULL",
    );
  } finally {
    await client.end();
  }
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("PostgreSQL store in cluster mode", () => {
  it("opens without the one-engine lock and refuses a bad cluster option", async () => {
    const url = await database();
    const a = await node(url, "a");
    const b = await node(url, "b");
    expect(a.cluster?.nodeId).toBe("a");
    expect(b.cluster?.nodeId).toBe("b");
    await expect(
      openPgStore({ url, cluster: { nodeId: "", leaseMs: 5000 } }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(openPgStore({ url, cluster: { nodeId: "c", leaseMs: 10 } })).rejects.toMatchObject(
      { code: "VALIDATION" },
    );
  });

  it("never hands one run to two nodes under concurrent claims", async () => {
    const url = await database();
    const nodes = await Promise.all(["a", "b", "c"].map((id) => node(url, id)));
    const [first] = nodes;
    if (first === undefined) throw new Error("no node");
    const workflow = await first.upsertWorkflow({
      slug: "free",
      manifest: testManifest("free"),
      program: "export {}",
    });
    const ids: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      ids.push((await first.createRun({ workflowId: workflow.id, triggerKind: "manual" })).run.id);
    }
    const claimed = await Promise.all(
      nodes.flatMap((store) => [1, 2, 3].map(() => cluster(store).claimQueued(25))),
    );
    const all = claimed.flat().map((held) => held.runId);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([...ids].sort());
    for (const held of claimed.flat()) expect(held.epoch).toBe(1);
    // Each run's node is the one whose claim returned it.
    for (const [index, store] of nodes.entries()) {
      const mine = claimed
        .slice(index * 3, index * 3 + 3)
        .flat()
        .map((held) => held.runId);
      for (const runId of mine) {
        expect((await store.getRun(runId))?.nodeId).toBe(store.cluster?.nodeId);
      }
    }
  });

  it("admits one run of a serial workflow at a time across nodes; children bypass the gate", async () => {
    const url = await database();
    const nodes = await Promise.all(["a", "b", "c"].map((id) => node(url, id)));
    const [first] = nodes;
    if (first === undefined) throw new Error("no node");
    const serial = await first.upsertWorkflow({
      slug: "one-at-a-time",
      manifest: testManifest("one-at-a-time", { concurrency: { mode: "serial" } }),
      program: "export {}",
    });
    for (let i = 0; i < 10; i += 1) {
      await first.createRun({ workflowId: serial.id, triggerKind: "manual" });
    }
    const claimed = (
      await Promise.all(nodes.flatMap((store) => [1, 2].map(() => cluster(store).claimQueued(100))))
    ).flat();
    expect(claimed).toHaveLength(1);
    const [holder] = claimed;
    if (holder === undefined) throw new Error("nothing claimed");
    // The admitted run still reads `queued`: it holds the slot all the same.
    expect((await first.getRun(holder.runId))?.status).toBe("queued");
    expect(
      (await Promise.all(nodes.map((store) => cluster(store).claimQueued(100)))).flat(),
    ).toEqual([]);
    // A child of the admitted run bypasses the gate.
    const owner = nodes.find((store) => store.cluster?.held().has(holder.runId));
    if (owner === undefined) throw new Error("no holder");
    const child = await owner.createRun({
      workflowId: serial.id,
      triggerKind: "manual",
      parentRunId: holder.runId,
      idempotencyKey: "child-1",
    });
    const childClaims = (
      await Promise.all(nodes.map((store) => cluster(store).claimQueued(100)))
    ).flat();
    expect(childClaims.map((held) => held.runId)).toEqual([child.run.id]);
    // The admitted run ends: the next one is admitted, by exactly one node.
    const holderNode = owner;
    await holderNode.commitStatus(holder.runId, {
      to: "pending",
      expect: ["queued"],
    });
    await holderNode.commitStatus(holder.runId, {
      to: "completed",
      expect: ["pending"],
      endedAt: 1,
    });
    const childNode = nodes.find((store) => store.cluster?.held().has(child.run.id));
    await childNode?.commitStatus(child.run.id, {
      to: "cancelled",
      expect: ["queued"],
      endedAt: 1,
    });
    const next = (
      await Promise.all(nodes.flatMap((store) => [1, 2].map(() => cluster(store).claimQueued(100))))
    ).flat();
    expect(next).toHaveLength(1);
  });

  it("rejects every write of a node whose run was taken over, and takes over with epoch + 1", async () => {
    const url = await database();
    const a = await node(url, "a");
    const b = await node(url, "b");
    const workflow = await a.upsertWorkflow({
      slug: "sleepy",
      manifest: testManifest("sleepy"),
      program: "export {}",
    });
    const { run } = await a.createRun({ workflowId: workflow.id, triggerKind: "manual" });
    const [held] = await cluster(a).claimQueued(10);
    expect(held).toMatchObject({ runId: run.id, epoch: 1, status: "queued", takenOver: false });
    await a.commitStatus(run.id, { to: "pending", expect: ["queued"] });
    await a.appendEvents(run.id, [{ cursor: 5, event: statusEvent(run.id, "running") }]);

    // Not expired yet: nobody else takes it.
    expect(await cluster(b).takeOverExpired(10, false)).toEqual([]);
    expect(await cluster(b).claimRun(run.id)).toBeNull();

    await expireLeases(url);
    const taken = await cluster(b).takeOverExpired(10, false);
    expect(taken).toEqual([
      { runId: run.id, epoch: 2, status: "pending", cancelRequested: false, takenOver: true },
    ]);
    expect((await b.getRun(run.id))?.nodeId).toBe("b");

    // Every write of the stale holder is refused; nothing of it lands.
    const before = await b.listEvents(run.id);
    const writes: (() => Promise<unknown>)[] = [
      () => a.appendEvents(run.id, [{ cursor: 6, event: statusEvent(run.id, "running") }]),
      () => a.commitStatus(run.id, { to: "failed", expect: ["pending"], endedAt: 1 }),
      () => a.addRunUsage(run.id, { tokensIn: 1 }),
      () => a.addActiveMs(run.id, 5),
      () => a.incrementRestarts(run.id),
      () => a.scheduleRetry(run.id, 5),
      () => a.clearRetry(run.id),
      () =>
        a.createArtifact({
          runId: run.id,
          name: "x.txt",
          contentType: "text/plain",
          path: "/tmp/x.txt",
          size: 1,
        }),
      () =>
        a.createInputRequest(run.id, { key: "ok", prompt: "ok?", inputSpec: { kind: "confirm" } }),
      () =>
        a.createRun({
          workflowId: workflow.id,
          triggerKind: "manual",
          parentRunId: run.id,
          idempotencyKey: "k",
        }),
    ];
    for (const write of writes) {
      const error = await failure(write());
      expect(isLeaseLost(error), String(error)).toBe(true);
    }
    expect(await b.listEvents(run.id)).toEqual(before);
    expect(await b.getRun(run.id)).toMatchObject({
      status: "pending",
      tokensIn: 0,
      activeMs: 0,
      restarts: 0,
      retries: 0,
    });
    expect(await b.listArtifacts(run.id)).toEqual([]);
    expect(await b.listRuns({ parentRunId: run.id })).toEqual([]);

    // The stale node's heartbeat reports the run lost; the new holder's keeps it.
    expect(await cluster(a).heartbeat()).toEqual({ held: [], lost: [run.id] });
    const beat = await cluster(b).heartbeat();
    expect(beat.lost).toEqual([]);
    expect(beat.held.map((h) => h.runId)).toEqual([run.id]);

    // The new holder writes normally.
    await b.commitStatus(run.id, { to: "completed", expect: ["pending"], endedAt: 2 });
    expect((await b.getRun(run.id))?.status).toBe("completed");
  });

  it("releases leases for another node, restarts its own runs by id, and records cancel requests", async () => {
    const url = await database();
    const a = await node(url, "a");
    const b = await node(url, "b");
    const workflow = await a.upsertWorkflow({
      slug: "handover",
      manifest: testManifest("handover"),
      program: "export {}",
    });
    const { run } = await a.createRun({ workflowId: workflow.id, triggerKind: "manual" });
    await cluster(a).claimQueued(10);
    await a.commitStatus(run.id, { to: "pending", expect: ["queued"] });

    // Another node asks for a cancel: recorded for the holder, who sees it on its heartbeat.
    expect(await cluster(b).requestCancel(run.id)).toBe(true);
    expect((await cluster(a).heartbeat()).held).toEqual([
      { runId: run.id, epoch: 1, status: "pending", cancelRequested: true, takenOver: false },
    ]);

    // A node restarted under the same id takes its own runs back at once.
    const again = await node(url, "a");
    expect(await cluster(again).takeOverExpired(10, false)).toEqual([]);
    const mine = await cluster(again).takeOverExpired(10, true);
    expect(mine.map((held) => [held.runId, held.epoch, held.takenOver])).toEqual([
      [run.id, 2, false],
    ]);

    // Released: another node takes it over at once, without waiting for the lease.
    expect(await cluster(again).release()).toBe(1);
    expect(cluster(again).held().size).toBe(0);
    const taken = await cluster(b).takeOverExpired(10, false);
    expect(taken.map((held) => [held.runId, held.epoch])).toEqual([[run.id, 3]]);
    const error = await failure(
      again.commitStatus(run.id, { to: "cancelled", expect: ["pending"], endedAt: 1 }),
    );
    expect(isLeaseLost(error)).toBe(true);
  });
});

/**
 * The retention part of the store contract suite (registered by `describeStoreContract`): one
 * `pruneRuns` batch deletes exactly the terminal runs outside the policy, with every row that
 * belongs to them. What would break without these rules: a sweep deleting a run still in flight
 * (or the parent a running child reports to), rows of a deleted run left behind forever, a
 * client retry or a replayed webhook starting a second run because its key went with the run, or
 * the scheduler re-firing missed cron instants because their record vanished. Old versions go
 * only when nothing can run them again: never the current one, never one a run references.
 */
import { describe, expect, it } from "vitest";
import type { AsyncStore, PruneRunsResult } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { outputLineEvent, testManifest } from "./fixtures.ts";

/** What the retention tests need from the suite's setup. */
export interface RetentionSetup {
  setup: () => Promise<{ store: AsyncStore; clock: ManualClock; workflowId: string }>;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** A run that ends now with `status`, with one output event, usage and one artifact. */
async function endedRun(
  store: AsyncStore,
  workflowId: string,
  options: {
    status?: "completed" | "failed" | "cancelled";
    parentRunId?: string;
  } = {},
): Promise<string> {
  const { run } = await store.createRun({
    workflowId,
    triggerKind: "manual",
    ...(options.parentRunId === undefined
      ? {}
      : { parentRunId: options.parentRunId, idempotencyKey: `child-${String(Math.random())}` }),
  });
  await store.appendEvents(run.id, [
    { cursor: 2, event: outputLineEvent(run.id, "hello", { seq: 2 }) },
  ]);
  await store.addRunUsage(run.id, { tokensIn: 3 });
  await store.createArtifact({
    runId: run.id,
    name: "a.txt",
    contentType: "text/plain",
    path: `/data/runs/${run.id}/artifacts/a.txt`,
    size: 1,
  });
  await store.commitStatus(run.id, {
    to: options.status ?? "completed",
    expect: ["queued"],
    endedAt: (await store.getRun(run.id))?.createdAt ?? 0,
  });
  return run.id;
}

async function ids(store: AsyncStore): Promise<string[]> {
  return (await store.listRuns({ limit: 1000 })).map((run) => run.id).sort();
}

/** Registers the retention contract tests. */
export function describeRetentionContract({ setup }: RetentionSetup): void {
  describe("retention (pruneRuns)", () => {
    it("deletes terminal runs that ended before the cutoff with their events, artifacts and usage", async () => {
      const { store, clock, workflowId } = await setup();
      const old = [
        await endedRun(store, workflowId),
        await endedRun(store, workflowId, { status: "failed" }),
        await endedRun(store, workflowId, { status: "cancelled" }),
      ];
      const queued = (await store.createRun({ workflowId, triggerKind: "manual" })).run.id;
      clock.advance(2 * DAY_MS);
      const recent = await endedRun(store, workflowId);
      const result = await store.pruneRuns({ workflowId, endedBefore: clock.now() - DAY_MS });
      expect(result.deleted.map((run) => run.id).sort()).toEqual([...old].sort());
      expect(result.deleted.every((run) => run.workflowId === workflowId)).toBe(true);
      expect(result.artifactPaths.sort()).toEqual(
        old.map((id) => `/data/runs/${id}/artifacts/a.txt`).sort(),
      );
      expect(result.next).toBeNull();
      expect(await ids(store)).toEqual([queued, recent].sort());
      for (const id of old) {
        expect(await store.getRun(id)).toBeNull();
        expect(await store.listEvents(id)).toEqual([]);
        expect(await store.listArtifacts(id)).toEqual([]);
        expect(await codeOf(() => store.getRunUsage(id))).toBe("NOT_FOUND");
      }
      expect((await store.listEvents(recent)).length).toBe(3);
      expect(await store.listArtifacts(recent)).toHaveLength(1);
    });

    it("keeps the newest N terminal top-level runs and never counts or touches runs in flight", async () => {
      const { store, clock, workflowId } = await setup();
      const ended: string[] = [];
      for (let i = 0; i < 5; i++) {
        ended.push(await endedRun(store, workflowId));
        clock.advance(1000);
      }
      const running = (await store.createRun({ workflowId, triggerKind: "manual" })).run.id;
      await store.commitStatus(running, { to: "running", expect: ["queued"] });
      const result = await store.pruneRuns({ workflowId, keepLast: 2 });
      expect(result.deleted.map((run) => run.id).sort()).toEqual(ended.slice(0, 3).sort());
      expect(await ids(store)).toEqual([...ended.slice(3), running].sort());
      // Nothing more is outside the policy.
      expect((await store.pruneRuns({ workflowId, keepLast: 2 })).deleted).toEqual([]);
      // Fewer terminal runs than N: nothing to do.
      expect((await store.pruneRuns({ workflowId, keepLast: 10 })).deleted).toEqual([]);
    });

    it("deletes a family together and keeps a family while any of its runs is in flight", async () => {
      const { store, clock, workflowId } = await setup();
      const other = await store.upsertWorkflow({
        slug: "helper",
        manifest: testManifest("helper"),
        program: "export {}",
      });
      const doneParent = await endedRun(store, workflowId);
      const doneChild = await endedRun(store, other.id, { parentRunId: doneParent });
      const doneGrandchild = await endedRun(store, other.id, { parentRunId: doneChild });
      const busyParent = await endedRun(store, workflowId);
      const busyChild = (
        await store.createRun({
          workflowId: other.id,
          triggerKind: "manual",
          parentRunId: busyParent,
          idempotencyKey: "busy",
        })
      ).run.id;
      await store.commitStatus(busyChild, { to: "awaiting_input", expect: ["queued"] });
      clock.advance(DAY_MS);
      const result = await store.pruneRuns({ workflowId, endedBefore: clock.now() });
      expect(result.deleted.map((run) => run.id).sort()).toEqual(
        [doneParent, doneChild, doneGrandchild].sort(),
      );
      expect(result.deleted.find((run) => run.id === doneGrandchild)?.parentRunId).toBe(doneChild);
      expect(await ids(store)).toEqual([busyParent, busyChild].sort());
      // The child workflow's own retention never takes a child away from its family.
      expect(
        (await store.pruneRuns({ workflowId: other.id, endedBefore: clock.now() })).deleted,
      ).toEqual([]);
    });

    it("keeps a run while its request key or webhook delivery keys are remembered", async () => {
      const { store, clock, workflowId } = await setup();
      const keyed = (
        await store.createRun({
          workflowId,
          triggerKind: "manual",
          requestKey: { key: "retry-1", fingerprint: "f" },
        })
      ).run.id;
      const hooked = (
        await store.createRun({
          workflowId,
          triggerKind: "webhook",
          delivery: {
            hookIndex: 0,
            keys: ["sig-a"],
            deliveryId: "d-1",
            expiresAt: clock.now() + 2 * DAY_MS,
          },
        })
      ).run.id;
      for (const id of [keyed, hooked]) {
        await store.commitStatus(id, { to: "completed", expect: ["queued"], endedAt: clock.now() });
      }
      clock.advance(HOUR_MS);
      expect((await store.pruneRuns({ workflowId, endedBefore: clock.now() })).deleted).toEqual([]);
      clock.advance(DAY_MS);
      const afterKey = await store.pruneRuns({ workflowId, endedBefore: clock.now() });
      expect(afterKey.deleted.map((run) => run.id)).toEqual([keyed]);
      // The key went with its run: the same key now starts a new run.
      const again = await store.createRun({
        workflowId,
        triggerKind: "manual",
        requestKey: { key: "retry-1", fingerprint: "other" },
      });
      expect(again.created).toBe(true);
      clock.advance(DAY_MS);
      const afterDelivery = await store.pruneRuns({ workflowId, endedBefore: clock.now() });
      expect(afterDelivery.deleted.map((run) => run.id)).toEqual([hooked]);
    });

    it("keeps the run of each cron trigger's newest fire, so missed instants are not fired again", async () => {
      const { store, clock, workflowId } = await setup();
      const fires: string[] = [];
      for (const fireTime of [60_000, 120_000, 180_000]) {
        const run = await store.fireCron({ workflowId, triggerIndex: 0, fireTime });
        if (run === null) throw new Error("expected a cron run");
        await store.commitStatus(run.id, { to: "completed", expect: ["queued"], endedAt: 0 });
        fires.push(run.id);
      }
      clock.advance(DAY_MS);
      const result = await store.pruneRuns({ workflowId, endedBefore: clock.now() });
      expect(result.deleted.map((run) => run.id).sort()).toEqual(fires.slice(0, 2).sort());
      expect(await ids(store)).toEqual([fires[2]]);
      expect(await store.lastCronFire(workflowId, 0)).toBe(180_000);
    });

    it("works in bounded batches: each examines at most limit runs and says where the next starts", async () => {
      const { store, clock, workflowId } = await setup();
      const ended: string[] = [];
      for (let i = 0; i < 5; i++) {
        ended.push(await endedRun(store, workflowId));
        clock.advance(1000);
      }
      const endedBefore = clock.now();
      const seen: PruneRunsResult[] = [];
      let after: PruneRunsResult["next"] = null;
      do {
        const result: PruneRunsResult = await store.pruneRuns({
          workflowId,
          endedBefore,
          limit: 2,
          after,
        });
        seen.push(result);
        after = result.next;
      } while (after !== null);
      expect(seen.map((result) => result.deleted.length)).toEqual([2, 2, 1]);
      expect(seen.flatMap((result) => result.deleted.map((run) => run.id))).toEqual(ended);
      expect(await ids(store)).toEqual([]);
    });

    it("prunes exactly the versions that are not current and that no run references", async () => {
      const { store, clock, workflowId } = await setup();
      const deploy = (program: string) =>
        store.upsertWorkflow({ slug: "echo", manifest: testManifest("echo"), program });
      const other = await store.upsertWorkflow({
        slug: "helper",
        manifest: testManifest("helper"),
        program: "export {}",
      });
      const parent = await endedRun(store, other.id);
      await store.upsertWorkflow({
        slug: "helper",
        manifest: testManifest("helper"),
        program: "// 2",
      });
      // v1: only an old, deleted run. v2: a run in flight. v3: a finished run that stays.
      // v4: never run. v5: pinned by a child run. v6: current, never run.
      const old = await endedRun(store, workflowId);
      await deploy("// 2");
      const inFlight = (await store.createRun({ workflowId, triggerKind: "manual" })).run.id;
      await store.commitStatus(inFlight, { to: "running", expect: ["queued"] });
      await deploy("// 3");
      clock.advance(2 * DAY_MS);
      const kept = await endedRun(store, workflowId);
      await deploy("// 4");
      await deploy("// 5");
      const { run: child } = await store.createRun({
        workflowId,
        triggerKind: "manual",
        parentRunId: parent,
        idempotencyKey: "pinned",
        version: 5,
      });
      await deploy("// 6");
      expect((await store.getRun(child.id))?.version).toBe(5);
      // Before the old run goes, it holds version 1.
      expect((await store.pruneVersions({ workflowId })).deleted.map((v) => v.number)).toEqual([4]);
      const pruned = await store.pruneRuns({ workflowId, endedBefore: clock.now() - DAY_MS });
      expect(pruned.deleted.map((run) => run.id)).toEqual([old]);
      const result = await store.pruneVersions({ workflowId });
      expect(result.deleted.map((v) => ({ workflowId: v.workflowId, number: v.number }))).toEqual([
        { workflowId, number: 1 },
      ]);
      expect(result.more).toBe(false);
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([
        6, 5, 3, 2,
      ]);
      expect(await store.getWorkflowVersion(workflowId, 1)).toBeNull();
      expect(await store.getWorkflowVersion(workflowId, 4)).toBeNull();
      expect((await store.getWorkflowVersion(workflowId, 5))?.program).toBe("// 5");
      // A pruned version cannot be run again; the kept ones can.
      expect(
        await codeOf(() => store.createRun({ workflowId, triggerKind: "manual", version: 1 })),
      ).toBe("NOT_FOUND");
      const onThree = await store.createRun({ workflowId, triggerKind: "manual", version: 3 });
      expect(onThree.run.version).toBe(3);
      expect(await store.getRun(kept)).not.toBeNull();
      // Another workflow's versions are its own: its version 1 is held by the parent run.
      expect((await store.pruneVersions({ workflowId: other.id })).deleted).toEqual([]);
      expect((await store.listWorkflowVersions(other.id)).map((v) => v.number)).toEqual([2, 1]);
      // Nothing left to prune.
      expect(await store.pruneVersions({ workflowId })).toEqual({ deleted: [], more: false });
    });

    it("never prunes a workflow's only version, and prunes versions in bounded batches", async () => {
      const { store, workflowId } = await setup();
      expect((await store.pruneVersions({ workflowId })).deleted).toEqual([]);
      for (let i = 2; i <= 6; i++) {
        await store.upsertWorkflow({
          slug: "echo",
          manifest: testManifest("echo"),
          program: `// ${String(i)}`,
        });
      }
      const batches = [];
      for (;;) {
        const result = await store.pruneVersions({ workflowId, limit: 2 });
        batches.push({ numbers: result.deleted.map((v) => v.number), more: result.more });
        if (!result.more) break;
      }
      expect(batches).toEqual([
        { numbers: [1, 2], more: true },
        { numbers: [3, 4], more: true },
        { numbers: [5], more: false },
      ]);
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([6]);
      expect(await codeOf(() => store.pruneVersions({ workflowId: "" }))).toBe("VALIDATION");
      expect(await codeOf(() => store.pruneVersions({ workflowId, limit: 0 }))).toBe("VALIDATION");
      expect(await codeOf(() => store.pruneVersions({ workflowId, limit: 5000 }))).toBe(
        "VALIDATION",
      );
    });

    it("refuses a batch without a policy or with bad arguments (VALIDATION), deleting nothing", async () => {
      const { store, workflowId } = await setup();
      await endedRun(store, workflowId);
      expect(await codeOf(() => store.pruneRuns({ workflowId }))).toBe("VALIDATION");
      expect(await codeOf(() => store.pruneRuns({ workflowId, keepLast: 0 }))).toBe("VALIDATION");
      expect(await codeOf(() => store.pruneRuns({ workflowId, endedBefore: 1, limit: 5000 }))).toBe(
        "VALIDATION",
      );
      expect(await codeOf(() => store.pruneRuns({ workflowId: "", endedBefore: 1 }))).toBe(
        "VALIDATION",
      );
      expect(await ids(store)).toHaveLength(1);
    });
  });
}

/**
 * The workflow-versions part of the store contract suite (registered by `describeStoreContract`):
 * every deploy that changes a workflow's content is an immutable, numbered version; each run
 * records the version it was created on. What would break without these rules: a run restarted
 * after a redeploy executing a program it did not start with, a redeploy of identical content
 * cluttering the history, or a run started on a version that does not exist.
 */
import { describe, expect, it } from "vitest";
import type { AsyncStore } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { testManifest } from "./fixtures.ts";

/** What the versions tests need from the suite's setup. */
export interface VersionSetup {
  setup: () => Promise<{ store: AsyncStore; clock: ManualClock; workflowId: string }>;
}

async function errorOf(fn: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

/** Registers the workflow-versions contract tests. */
export function describeVersionContract({ setup }: VersionSetup): void {
  describe("workflow versions", () => {
    const deploy = (store: AsyncStore, program: string, extra: object = {}) =>
      store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program,
        ...extra,
      });

    it("keeps each deploy that changed the content as a numbered version, newest first", async () => {
      const { store, clock, workflowId } = await setup();
      const firstAt = clock.now();
      clock.advance(1000);
      await deploy(store, "export const v = 2;");
      const secondAt = clock.now();
      const versions = await store.listWorkflowVersions(workflowId);
      expect(versions.map((v) => v.number)).toEqual([2, 1]);
      expect(versions.map((v) => v.deployedAt)).toEqual([secondAt, firstAt]);
      for (const version of versions) {
        expect(version).toEqual({
          id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/) as unknown,
          workflowId,
          number: version.number,
          hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
          deployedAt: version.deployedAt,
        });
      }
      expect(versions[0]?.hash).not.toBe(versions[1]?.hash);
      expect(await store.getWorkflowVersion(workflowId, 1)).toEqual({
        ...versions[1],
        manifest: testManifest("echo"),
        program: "export {}",
        config: {},
        skills: {},
      });
      expect((await store.getWorkflowVersion(workflowId, 2))?.program).toBe("export const v = 2;");
      expect(await store.getWorkflowVersion(workflowId, 3)).toBeNull();
      expect(await store.listWorkflowVersions("no-such-workflow")).toEqual([]);
      expect(await store.getWorkflowVersion("no-such-workflow", 1)).toBeNull();
    });

    it("creates no version for a redeploy of the current content; any content change makes one", async () => {
      const { store, workflowId } = await setup();
      await deploy(store, "export {}");
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([1]);
      await deploy(store, "export {}", { config: { catch_up: "once" } });
      await deploy(store, "export {}", { config: { catch_up: "once" } });
      await deploy(store, "export {}", {
        config: { catch_up: "once" },
        skills: { tone: "Be brief.", intro: "Hello." },
      });
      // Same skills in another key order: the same content.
      await deploy(store, "export {}", {
        config: { catch_up: "once" },
        skills: { intro: "Hello.", tone: "Be brief." },
      });
      await store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo", { title: "Echo" }),
        program: "export {}",
        config: { catch_up: "once" },
        skills: { intro: "Hello.", tone: "Be brief." },
      });
      const versions = await store.listWorkflowVersions(workflowId);
      expect(versions.map((v) => v.number)).toEqual([4, 3, 2, 1]);
      expect(new Set(versions.map((v) => v.hash)).size).toBe(4);
      expect((await store.getWorkflowVersion(workflowId, 3))?.skills).toEqual({
        intro: "Hello.",
        tone: "Be brief.",
      });
      // Back to an earlier content: a new number (numbers only grow), with that content's hash.
      await deploy(store, "export {}");
      const again = await store.listWorkflowVersions(workflowId);
      expect(again.map((v) => v.number)).toEqual([5, 4, 3, 2, 1]);
      expect(again[0]?.hash).toBe(again.at(-1)?.hash);
    });

    it("numbers versions per workflow", async () => {
      const { store, workflowId } = await setup();
      const other = await store.upsertWorkflow({
        slug: "other",
        manifest: testManifest("other"),
        program: "export {}",
      });
      await deploy(store, "// 2");
      expect((await store.listWorkflowVersions(other.id)).map((v) => v.number)).toEqual([1]);
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([2, 1]);
    });

    it("creates a run on the current version, or on the version asked for", async () => {
      const { store, workflowId } = await setup();
      const [v1] = await store.listWorkflowVersions(workflowId);
      const { run: onFirst } = await store.createRun({ workflowId, triggerKind: "manual" });
      expect(onFirst).toMatchObject({ versionId: v1?.id, version: 1 });
      await deploy(store, "// 2");
      const [v2] = await store.listWorkflowVersions(workflowId);
      const { run: onSecond } = await store.createRun({ workflowId, triggerKind: "manual" });
      expect(onSecond).toMatchObject({ versionId: v2?.id, version: 2 });
      const { run: pinned } = await store.createRun({
        workflowId,
        triggerKind: "manual",
        version: 1,
      });
      expect(pinned).toMatchObject({ versionId: v1?.id, version: 1 });
      expect(await store.getRun(pinned.id)).toEqual(pinned);
      // A redeploy never moves an existing run.
      await deploy(store, "// 3");
      expect(await store.getRun(onFirst.id)).toMatchObject({ version: 1 });
      expect(await store.getRun(onSecond.id)).toMatchObject({ version: 2 });
      const child = await store.createRun({
        workflowId,
        triggerKind: "manual",
        parentRunId: onFirst.id,
        idempotencyKey: "child",
      });
      expect(child.run).toMatchObject({ version: 3 });
    });

    it("refuses a version the workflow does not have, writing nothing", async () => {
      const { store, workflowId } = await setup();
      const error = await errorOf(() =>
        store.createRun({ workflowId, triggerKind: "manual", version: 7 }),
      );
      expect(error.code).toBe("NOT_FOUND");
      expect(error.message).toBe("Workflow echo has no version 7.");
      const keyed = await errorOf(() =>
        store.createRun({
          workflowId,
          triggerKind: "manual",
          version: 2,
          requestKey: { key: "k", fingerprint: "f" },
        }),
      );
      expect(keyed.code).toBe("NOT_FOUND");
      expect(await store.listRuns()).toEqual([]);
      for (const bad of [0, 1.5, "1"]) {
        expect(
          (
            await errorOf(() =>
              store.createRun({ workflowId, triggerKind: "manual", version: bad as number }),
            )
          ).code,
        ).toBe("VALIDATION");
      }
    });

    it("fires cron runs on the current version", async () => {
      const { store, workflowId } = await setup();
      await deploy(store, "// 2");
      const run = await store.fireCron({ workflowId, triggerIndex: 0, fireTime: 60_000 });
      expect(run).toMatchObject({ version: 2 });
    });
  });
}

/**
 * The undeploy part of the store contract suite (registered by `describeStoreContract`): an
 * undeployed workflow keeps its row, versions, runs and events, is no longer read by slug nor
 * listed, and a redeploy of its slug brings it back under the same id. What would break without
 * these rules: run pages of an undeployed workflow losing their data, a cron of an undeployed
 * workflow still firing, or a redeploy starting a second history under a new id.
 */
import { describe, expect, it } from "vitest";
import type { AsyncStore } from "../types.ts";
import type { ManualClock } from "@promenade/workflow/testing";
import { testManifest } from "./fixtures.ts";

/** What the undeploy tests need from the suite's setup. */
export interface UndeploySetup {
  setup: () => Promise<{ store: AsyncStore; clock: ManualClock; workflowId: string }>;
}

/** Registers the undeploy contract tests. */
export function describeUndeployContract({ setup }: UndeploySetup): void {
  describe("undeploy", () => {
    it("hides the workflow from slug reads and the list, keeping its row, versions, runs and events", async () => {
      const { store, clock, workflowId } = await setup();
      await store.upsertWorkflow({
        slug: "other",
        manifest: testManifest("other"),
        program: "export {}",
      });
      const { run } = await store.createRun({ workflowId, triggerKind: "manual" });
      await store.commitStatus(run.id, { to: "running", expect: ["queued"] });
      // Read once first: a cached row must not outlive the undeploy.
      expect((await store.getWorkflow("echo"))?.undeployedAt).toBeNull();
      expect((await store.listWorkflows()).map((w) => w.slug)).toEqual(["echo", "other"]);
      clock.advance(5000);
      const undeployed = await store.undeployWorkflow("echo");
      expect(undeployed).toMatchObject({ id: workflowId, slug: "echo", undeployedAt: clock.now() });

      expect(await store.getWorkflow("echo")).toBeNull();
      expect((await store.listWorkflows()).map((w) => w.slug)).toEqual(["other"]);
      expect(
        (await store.listWorkflows({ includeUndeployed: true })).map((w) => [
          w.slug,
          w.undeployedAt,
        ]),
      ).toEqual([
        ["echo", clock.now()],
        ["other", null],
      ]);
      expect(await store.getWorkflowById(workflowId)).toMatchObject({
        slug: "echo",
        undeployedAt: clock.now(),
        program: "export {}",
      });
      expect(await store.getRun(run.id)).toMatchObject({ workflowId, status: "running" });
      const events = await store.listEvents(run.id);
      expect(events.map((row) => row.event.kind)).toEqual(["run_status", "run_status"]);
      expect((await store.listRuns({ workflowId })).map((r) => r.id)).toEqual([run.id]);
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([1]);
      expect((await store.getWorkflowVersion(workflowId, 1))?.program).toBe("export {}");
    });

    it("answers null for an unknown or already undeployed slug", async () => {
      const { store } = await setup();
      expect(await store.undeployWorkflow("nope")).toBeNull();
      expect(await store.undeployWorkflow("echo")).not.toBeNull();
      expect(await store.undeployWorkflow("echo")).toBeNull();
    });

    it("redeploying the slug brings it back under the same id; its versions continue", async () => {
      const { store, clock, workflowId } = await setup();
      await store.undeployWorkflow("echo");
      clock.advance(1000);
      // Identical content: deployed again, no new version.
      const same = await store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "export {}",
      });
      expect(same).toMatchObject({ id: workflowId, undeployedAt: null });
      expect((await store.getWorkflow("echo"))?.id).toBe(workflowId);
      expect((await store.listWorkflows()).map((w) => w.slug)).toEqual(["echo"]);
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([1]);

      await store.undeployWorkflow("echo");
      const changed = await store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "export const v = 2;",
      });
      expect(changed).toMatchObject({ id: workflowId, undeployedAt: null });
      expect((await store.listWorkflowVersions(workflowId)).map((v) => v.number)).toEqual([2, 1]);
      expect((await store.getWorkflowById(workflowId))?.undeployedAt).toBeNull();
    });
  });
}

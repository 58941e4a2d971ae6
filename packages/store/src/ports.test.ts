/**
 * The real store must serve its consumers' ports, also as detached methods (ports are often
 * passed as picked functions). The supervisor's and scheduler's ports are `Pick<Store, …>` in
 * their own packages and are checked against the store where the pieces meet (the engine spells
 * out `const forSupervisor: SupervisorStore = store`), so they are not restated here; the
 * server's store-backed reads are spelled out below as spec 04 §0.2 declares them, so a drift in
 * a read's name or shape stops compiling in this package.
 */
import { describe, expect, it } from "vitest";
import type { RunStatus } from "./internal/sdk.ts";
import { createMemoryStore, statusEvent, testManifest } from "./testing/fixtures.ts";
import type { ArtifactRow, EventRow, RunRow, StoreReader, WorkflowRow } from "./types.ts";

/** The store-backed members of the server's `EngineApi` (spec 04 §0.2), spelled as it declares them. */
interface ServerReads {
  listWorkflows(): WorkflowRow[];
  getWorkflow(slug: string): WorkflowRow | null;
  getWorkflowById(id: string): WorkflowRow | null;
  getRun(runId: string): RunRow | null;
  listRuns(q: {
    workflowId?: string;
    statuses?: RunStatus[];
    limit: number;
    offset?: number;
    beforeRunId?: string;
  }): RunRow[];
  listEvents(runId: string, q: { afterCursor: number; limit: number }): EventRow[];
  maxCursor(runId: string): number;
  listArtifacts(runId: string): ArtifactRow[];
}

describe("ports", () => {
  it("the real store serves the supervisor, scheduler and server reads, also as detached methods", () => {
    const store = createMemoryStore();
    try {
      const reader: StoreReader = store;
      const forServer: ServerReads = reader;
      // Ports are often passed as picked functions; they must not lose their store.
      /* eslint-disable @typescript-eslint/unbound-method -- detaching is what is under test */
      const { upsertWorkflow, createRun, appendEvents, listRuns } = store;
      const { listEvents, maxCursor } = forServer;
      /* eslint-enable @typescript-eslint/unbound-method */
      const workflowId = upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "" }).id;
      const { run } = createRun({ workflowId, triggerKind: "manual" });
      appendEvents(run.id, [{ cursor: 2, event: statusEvent(run.id, "pending", { seq: 2 }) }]);
      expect(listRuns({ statuses: ["queued"], order: "oldest" }).map((r) => r.id)).toEqual([
        run.id,
      ]);
      expect(listEvents(run.id, { afterCursor: 0, limit: 256 })).toHaveLength(2);
      expect(maxCursor(run.id)).toBe(2);
    } finally {
      store.close();
    }
  });
});

/**
 * The consumers' ports, written out as spec 02 §4.8 and spec 04 §0.2 state them, must accept
 * the real store. If a method's name or shape drifts, this file stops compiling here, in the
 * store package, instead of in the engine where the pieces meet.
 */
import { describe, expect, it } from "vitest";
import type { RunStatus } from "./internal/sdk.ts";
import { createMemoryStore, statusEvent, testManifest } from "./testing/fixtures.ts";
import type { ArtifactRow, EventRow, RunRow, Store, StoreReader, WorkflowRow } from "./types.ts";

type SupervisorStore = Pick<
  Store,
  | "transaction"
  | "afterCommit"
  | "getWorkflow"
  | "getWorkflowById"
  | "getRun"
  | "listRuns"
  | "createRun"
  | "updateRunStatus"
  | "incrementRestarts"
  | "addRunUsage"
  | "getRunUsage"
  | "appendEvents"
  | "maxCursor"
  | "createArtifact"
>;

type SchedulerStore = Pick<
  Store,
  | "transaction"
  | "listWorkflows"
  | "getWorkflowById"
  | "listRuns"
  | "createRun"
  | "recordCronFire"
  | "lastCronFire"
>;

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
  it("the real store satisfies the supervisor, scheduler and server ports, also as detached methods", () => {
    const store = createMemoryStore();
    try {
      const forSupervisor: SupervisorStore = store;
      const forScheduler: SchedulerStore = store;
      const reader: StoreReader = store;
      const forServer: ServerReads = reader;
      // Ports are often passed as picked functions; they must not lose their store.
      /* eslint-disable @typescript-eslint/unbound-method -- detaching is what is under test */
      const { upsertWorkflow } = store;
      const { createRun, appendEvents } = forSupervisor;
      const { listRuns } = forScheduler;
      const { listEvents, maxCursor } = forServer;
      /* eslint-enable @typescript-eslint/unbound-method */
      const workflowId = upsertWorkflow({ slug: "a", manifest: testManifest("a"), program: "" }).id;
      const { run } = createRun({ workflowId, triggerKind: "manual" });
      appendEvents(run.id, [{ cursor: 1, event: statusEvent(run.id, "queued") }]);
      expect(listRuns({ statuses: ["queued"], order: "oldest" }).map((r) => r.id)).toEqual([
        run.id,
      ]);
      expect(listEvents(run.id, { afterCursor: 0, limit: 256 })).toHaveLength(1);
      expect(maxCursor(run.id)).toBe(1);
    } finally {
      store.close();
    }
  });
});

/**
 * The real store must serve its consumers, also as detached methods (ports are often passed as
 * picked functions): it is an `AsyncStore` (the backend-agnostic interface every consumer port
 * is a subset of) with plain values for `Awaitable` ones, and its synchronous reads are what
 * `engine.store` exposes. The server's store-backed reads are spelled out below as the server
 * declares them, so a drift in a read's name or shape stops compiling in this package.
 */
import { describe, expect, it } from "vitest";
import type { RunStatus } from "./internal/sdk.ts";
import { createMemoryStore, statusEvent, testManifest } from "./testing/fixtures.ts";
import type {
  ArtifactRow,
  AsyncStore,
  EventRow,
  PublishedEvent,
  RunRow,
  StoreReader,
  WorkflowRow,
} from "./types.ts";

/** The store-backed members of the server's `EngineApi`, spelled as it declares them. */
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
  it("the real store serves the async interface and the server reads, also as detached methods", async () => {
    const store = createMemoryStore();
    try {
      const any: AsyncStore = store;
      const reader: StoreReader = store;
      const forServer: ServerReads = reader;
      // Ports are often passed as picked functions; they must not lose their store.
      /* eslint-disable @typescript-eslint/unbound-method -- detaching is what is under test */
      const { upsertWorkflow, createRun, appendEvents, listRuns, subscribe } = any;
      const { listEvents, maxCursor } = forServer;
      /* eslint-enable @typescript-eslint/unbound-method */
      const seen: PublishedEvent[] = [];
      subscribe((row) => seen.push(row));
      const workflow = await upsertWorkflow({
        slug: "a",
        manifest: testManifest("a"),
        program: "",
      });
      const { run } = await createRun({ workflowId: workflow.id, triggerKind: "manual" });
      await appendEvents(run.id, [
        { cursor: 2, event: statusEvent(run.id, "pending", { seq: 2 }) },
      ]);
      expect((await listRuns({ statuses: ["queued"], order: "oldest" })).map((r) => r.id)).toEqual([
        run.id,
      ]);
      expect(listEvents(run.id, { afterCursor: 0, limit: 256 })).toHaveLength(2);
      expect(maxCursor(run.id)).toBe(2);
      expect(seen.map((row) => row.cursor)).toEqual([1, 2]);
    } finally {
      store.close();
    }
  });
});

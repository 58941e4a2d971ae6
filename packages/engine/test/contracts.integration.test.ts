/**
 * The consumers' port contracts run against the real stores the engine wires in: the
 * supervisor's and the scheduler's suites, each over a fresh SQLite file and over a fresh
 * PostgreSQL database (one throwaway cluster per test run). If these fail, the fakes those
 * packages test against no longer describe the stores the engine actually uses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@promenade/store";
import type { AsyncStore } from "@promenade/store";
import { openPgStore } from "@promenade/store/pg";
import { createTestDatabase } from "@promenade/store/testing";
import { describeSchedulerStore } from "@promenade/scheduler/testing";
import type { SchedulerStoreUnderTest } from "@promenade/scheduler/testing";
import { describeSupervisorStore } from "@promenade/supervisor/testing";
import type { SupervisorStoreHarness } from "@promenade/supervisor/testing";
import { describe } from "vitest";

/** A store of one backend plus its clean-up (which also closes the store). */
interface Opened {
  store: AsyncStore;
  close: () => Promise<void>;
}

function sqlite(): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), "promenade-contract-"));
  const store = openStore({ path: join(dir, "promenade.db") });
  return Promise.resolve({
    store,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  });
}

async function postgres(): Promise<Opened> {
  const database = await createTestDatabase();
  const store = await openPgStore({ url: database.url });
  return {
    store,
    close: async () => {
      await store.close();
      await database.drop();
    },
  };
}

function supervisorHarness({ store, close }: Opened): SupervisorStoreHarness {
  return {
    store,
    addWorkflow: (args) => store.upsertWorkflow(args),
    subscribe: (listener) => store.subscribe(listener),
    close,
  };
}

/** The scheduler suite's view of a store: its port plus the writes the suite seeds with. */
function schedulerView({ store, close }: Opened): SchedulerStoreUnderTest {
  return {
    listWorkflows: () => store.listWorkflows(),
    getWorkflowById: (id) => store.getWorkflowById(id),
    listRuns: (filter) => store.listRuns(filter),
    lastCronFire: (workflowId, triggerIndex) => store.lastCronFire(workflowId, triggerIndex),
    fireCron: (fire) => store.fireCron(fire),
    upsertWorkflow: (args) => store.upsertWorkflow(args),
    createRun: (args) => store.createRun(args),
    commitStatus: (runId, change) => store.commitStatus(runId, change),
    listEvents: (runId) => store.listEvents(runId),
    close,
  };
}

const BACKENDS = [
  ["sqlite", sqlite],
  ["postgres", postgres],
] as const;

for (const [name, open] of BACKENDS) {
  describe(name, () => {
    describeSupervisorStore(async () => supervisorHarness(await open()));
    describeSchedulerStore(async () => schedulerView(await open()), { name: `(${name})` });
  });
}

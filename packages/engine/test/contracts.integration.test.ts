/**
 * The consumers' port contracts run against the real SQLite store (STYLE §4): the supervisor's
 * and the scheduler's suites, each over a fresh database file. If these fail, the fakes those
 * packages test against no longer describe the store the engine actually wires in.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "@promenade/store";
import type { Store } from "@promenade/store";
import { describeSchedulerStore } from "@promenade/scheduler/testing";
import { describeSupervisorStore } from "@promenade/supervisor/testing";

function freshStore(): { store: Store; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "promenade-contract-"));
  const store = openStore({ path: join(dir, "promenade.db") });
  return {
    store,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeSupervisorStore(() => {
  const { store, close } = freshStore();
  return {
    store,
    addWorkflow: (args) => store.upsertWorkflow(args),
    close,
  };
});

describeSchedulerStore(
  () => {
    const { store, close } = freshStore();
    // The suite closes the store it gets; remove the temp dir along with it.
    return Object.assign(Object.create(store) as Store, { close });
  },
  { name: "(sqlite)" },
);

// The in-memory fake must honour the same SupervisorStore contract as the SQLite store.
import { createInMemorySupervisorStore, describeSupervisorStore } from "../src/testing/index.ts";

describeSupervisorStore(() => {
  const store = createInMemorySupervisorStore();
  return { store, addWorkflow: (args) => store.addWorkflow(args) };
});

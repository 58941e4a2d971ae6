// The in-memory fake must honour the same SupervisorStore contract as the real stores, in each of
// its modes: promises (the default), plain values (like SQLite), and promises that settle after
// random delays.
import { describe } from "vitest";
import { createInMemorySupervisorStore, describeSupervisorStore } from "../src/testing/index.ts";
import type { InMemorySupervisorStoreOptions } from "../src/testing/index.ts";

const modes: [string, InMemorySupervisorStoreOptions][] = [
  ["asynchronous", {}],
  ["synchronous", { synchronous: true }],
  ["asynchronous with jitter", { jitterMs: 2 }],
];

for (const [name, options] of modes) {
  describe(`in-memory store (${name})`, () => {
    describeSupervisorStore(() => {
      const store = createInMemorySupervisorStore(options);
      return {
        store,
        addWorkflow: (args) => store.addWorkflow(args),
        subscribe: (listener) => store.subscribe(listener),
      };
    });
  });
}

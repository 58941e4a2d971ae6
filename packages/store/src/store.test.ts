/**
 * Runs the store contract suite against the real SQLite store, both on `:memory:` and on a
 * database file in a temp dir (WAL, exclusive lock), so the two modes cannot drift apart.
 */
import { rmSync } from "node:fs";
import { describeStoreContract } from "./testing/contract.ts";
import { createMemoryStore, createTempStore } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

describeStoreContract("store contract on :memory:", ({ now }) => createMemoryStore({ now }));

describeStoreContract("store contract on a database file", ({ now }) => {
  const temp = createTempStore({ now });
  const close = temp.store.close.bind(temp.store);
  // Close, then delete the temp dir, when the suite closes the store.
  return new Proxy(temp.store, {
    get(target, key, receiver) {
      if (key === "close") {
        return () => {
          close();
          rmSync(temp.dir, { recursive: true, force: true });
        };
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  }) satisfies Store;
});

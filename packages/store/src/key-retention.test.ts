/**
 * Expired request keys and webhook delivery keys on a real database file: each write that adds
 * one deletes a small batch of its workflow's expired rows, so the tables stay bounded by what
 * is still within its window. What would break: every `Idempotency-Key` and every delivery ever
 * received kept forever, or one write deleting an unbounded number of rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "./open.ts";
import { createManualClock } from "@promenade/workflow/testing";
import { testManifest } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-retention-"));
  path = join(dir, "promenade.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Rows per table and workflow slug, read from the closed file. */
function counts(): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT 'keys:' || w.slug AS name, COUNT(*) AS n FROM run_request_keys k JOIN workflows w ON w.id = k.workflow_id GROUP BY w.slug
         UNION ALL
         SELECT 'deliveries:' || w.slug, COUNT(*) FROM webhook_deliveries d JOIN workflows w ON w.id = d.workflow_id GROUP BY w.slug`,
      )
      .all() as { name: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.name, row.n]));
  } finally {
    db.close();
  }
}

describe("expired request keys and delivery keys", () => {
  it("are deleted in batches of 32 per write, per workflow", () => {
    const clock = createManualClock();
    let store: Store = openStore({ path, now: () => clock.now() });
    const ids = new Map<string, string>();
    for (const slug of ["echo", "other"]) {
      ids.set(slug, store.upsertWorkflow({ slug, manifest: testManifest(slug), program: "" }).id);
    }
    const write = (slug: string, n: number): void => {
      store.createRun({
        workflowId: ids.get(slug) ?? "",
        triggerKind: "webhook",
        requestKey: { key: `key-${String(n)}`, fingerprint: "f" },
        delivery: {
          hookIndex: 0,
          keys: [`delivery-${String(n)}`],
          deliveryId: null,
          expiresAt: clock.now() + 300_000,
        },
      });
    };
    for (let n = 0; n < 40; n++) write("echo", n);
    for (let n = 0; n < 3; n++) write("other", n);
    clock.advance(DAY_MS);
    write("echo", 100);
    store.close();
    // 40 expired, 32 deleted, 1 added; the other workflow's expired rows wait for its own writes.
    expect(counts()).toEqual({
      "keys:echo": 9,
      "deliveries:echo": 9,
      "keys:other": 3,
      "deliveries:other": 3,
    });
    store = openStore({ path, now: () => clock.now() });
    write("echo", 101);
    write("other", 101);
    store.close();
    expect(counts()).toEqual({
      "keys:echo": 2,
      "deliveries:echo": 2,
      "keys:other": 1,
      "deliveries:other": 1,
    });
  });
});

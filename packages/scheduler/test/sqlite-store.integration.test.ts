/**
 * The contract suite against the real SQLite store: the scheduler's exactly-once and ordering
 * assumptions hold on the database it runs on by default, not only on the fake. (The engine runs
 * the same suite against SQLite and PostgreSQL.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openStore } from "@promenade/store";
import { describeSchedulerStore } from "../src/testing/contract.ts";

const dir = mkdtempSync(join(tmpdir(), "promenade-scheduler-contract-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSchedulerStore(() => openStore({ path: join(dir, `store-${++n}.db`) }), {
  name: "(sqlite)",
});

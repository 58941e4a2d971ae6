/**
 * Read validation and query shape on real database files. Corrupt rows written behind the
 * store's back must surface as `INTERNAL` naming `<table>.<column>`, never
 * as a crash in a consumer. Every listing query must be an index range with no sort step, or a
 * page of a 200,000-event run or a 100,000-run table costs a scan (what `pnpm bench` measures).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.ts";
import { openStore, openStoreWith } from "./open.ts";
import { outputLineEvent, testManifest, textDeltaEvent } from "./testing/fixtures.ts";
import type { Store } from "./types.ts";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-reads-"));
  path = join(dir, "promenade.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

function seed(store: Store): { workflowId: string; runId: string } {
  const workflowId = store.upsertWorkflow({
    slug: "echo",
    manifest: testManifest("echo"),
    program: "",
  }).id;
  const runId = store.createRun({ workflowId, triggerKind: "manual", input: { n: 1 } }).run.id;
  store.createArtifact({
    runId,
    name: "a.txt",
    contentType: "text/plain",
    path: "/tmp/a.txt",
    size: 1,
    metadata: { k: 1 },
  });
  return { workflowId, runId };
}

function corrupt(sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  try {
    // STRICT tables still accept any TEXT; CHECK-free columns take whatever we write here.
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe("corrupt rows", () => {
  const cases: {
    column: string;
    sql: string;
    read: (store: Store, ids: { workflowId: string; runId: string }) => unknown;
  }[] = [
    {
      column: "workflows.manifest",
      sql: "UPDATE workflows SET manifest = '{\"slug\": 5}'",
      read: (s) => s.getWorkflow("echo"),
    },
    {
      column: "workflows.manifest",
      sql: "UPDATE workflows SET manifest = 'not json'",
      read: (s) => s.listWorkflows(),
    },
    {
      column: "workflows.config",
      sql: "UPDATE workflows SET config = '[1]'",
      read: (s, i) => s.getWorkflowById(i.workflowId),
    },
    {
      column: "runs.status",
      sql: "UPDATE runs SET status = 'exploded'",
      read: (s, i) => s.getRun(i.runId),
    },
    {
      column: "runs.status",
      sql: "UPDATE runs SET status = 'exploded'",
      read: (s) => s.listRuns(),
    },
    {
      column: "runs.trigger_kind",
      sql: "UPDATE runs SET trigger_kind = 'timer'",
      read: (s, i) => s.getRun(i.runId),
    },
    { column: "runs.input", sql: "UPDATE runs SET input = '{'", read: (s, i) => s.getRun(i.runId) },
    {
      column: "runs.error",
      sql: "UPDATE runs SET error = '{\"code\": 1}'",
      read: (s, i) => s.getRun(i.runId),
    },
    {
      column: "run_events.event",
      sql: 'UPDATE run_events SET event = \'{"kind": "nope"}\'',
      read: (s, i) => s.listEvents(i.runId),
    },
    {
      column: "run_events.event",
      sql: "UPDATE run_events SET event = json_quote('garbage')",
      read: (s, i) => s.listEvents(i.runId),
    },
    {
      column: "run_events.event",
      sql: "UPDATE run_events SET event = json_set(event, '$.runId', 'someone-else')",
      read: (s, i) => s.listEvents(i.runId),
    },
    {
      column: "artifacts.metadata",
      sql: "UPDATE artifacts SET metadata = '3'",
      read: (s, i) => s.listArtifacts(i.runId),
    },
  ];

  for (const { column, sql, read } of cases) {
    it(`reports ${column} after "${sql}" as INTERNAL naming the column`, () => {
      const store = openStore({ path });
      const ids = seed(store);
      store.close();
      corrupt(sql);
      const reopened = openStore({ path });
      try {
        const error = errorOf(() => read(reopened, ids));
        expect(error.code).toBe("INTERNAL");
        expect(error.message).toContain(`corrupt row in ${column}:`);
        // The store itself stays usable for everything else.
        expect(reopened.maxCursor(ids.runId)).toBe(1);
      } finally {
        reopened.close();
      }
    });
  }
});

describe("oversized and malformed arguments", () => {
  it("rejects values over maxValueBytes and programs over maxProgramBytes with VALIDATION", () => {
    const store = openStore({ path, maxValueBytes: 1024, maxProgramBytes: 2048 });
    try {
      const { workflowId, runId } = seed(store);
      const big = "x".repeat(2000);
      const cases: (() => unknown)[] = [
        () => store.createRun({ workflowId, triggerKind: "manual", input: big }),
        () => store.appendEvents(runId, [{ cursor: 2, event: outputLineEvent(runId, big) }]),
        () => store.updateRunStatus(runId, "completed", { output: { big } }),
        () =>
          store.upsertWorkflow({
            slug: "big",
            manifest: testManifest("big"),
            program: "y".repeat(4096),
          }),
        () =>
          store.upsertWorkflow({
            slug: "big",
            manifest: testManifest("big"),
            program: "",
            config: { big },
          }),
        () =>
          store.createArtifact({
            runId,
            name: "b",
            contentType: "text/plain",
            path: "/tmp/b",
            size: 1,
            metadata: { big },
          }),
      ];
      for (const fn of cases) {
        const error = errorOf(fn);
        expect(error.code).toBe("VALIDATION");
        expect(error.message).toMatch(/over the \d+-byte limit/);
      }
      expect(store.maxCursor(runId)).toBe(1);
      expect(store.getRun(runId)?.status).toBe("queued");
      expect(store.getWorkflow("big")).toBeNull();
    } finally {
      store.close();
    }
  });

  it("rejects non-string ids and non-object arguments with VALIDATION", () => {
    const store = openStore({ path });
    try {
      const { runId } = seed(store);
      const calls: (() => unknown)[] = [
        () => store.getRun(42 as never),
        () => store.getWorkflow(null as never),
        () => store.listEvents(runId, { afterCursor: -1 }),
        () => store.listEvents(runId, { limit: 1.5 }),
        () => store.listRuns({ order: "sideways" as never }),
        () => store.appendEvents(runId, "events" as never),
        () => store.appendEvents(runId, [null as never]),
        () => store.createRun(undefined as never),
        () => store.updateRunStatus(runId, "completed", { endedAt: -5 }),
        () => store.lastCronFire(runId, 0.5),
        () => store.transaction("nope" as never),
        () => store.afterCommit(undefined as never),
      ];
      for (const call of calls) expect(errorOf(call).code).toBe("VALIDATION");
    } finally {
      store.close();
    }
  });
});

describe("query plans", () => {
  function plans(
    exercise: (store: Store, ids: { workflowId: string; runId: string }) => void,
  ): string[] {
    const seen: { query: string; params: unknown[] }[] = [];
    const store = openStoreWith({ path }, MIGRATIONS, {
      logQuery: (query, params) => seen.push({ query, params }),
    });
    const ids = seed(store);
    store.appendEvents(ids.runId, [
      { cursor: 2, event: outputLineEvent(ids.runId, "a", { seq: 2 }) },
      { cursor: 3, event: textDeltaEvent(ids.runId, "t", "b", { seq: 3 }) },
    ]);
    seen.length = 0;
    exercise(store, ids);
    store.close();
    const db = new Database(path);
    try {
      return seen.map(({ query, params }) => {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${query}`).all(...params) as {
          detail: string;
        }[];
        return `${query}\n  => ${rows.map((r) => r.detail).join(" | ")}`;
      });
    } finally {
      db.close();
    }
  }

  function expectIndexOnly(lines: string[]): void {
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      // An ordered walk of an index under LIMIT is fine; a filtered read must be a SEARCH.
      if (/ where /i.test(line)) expect(line).not.toMatch(/=> .*\bSCAN\b/);
      expect(line).not.toMatch(/=> (.* \| )?SCAN (runs|run_events)( \||$)/);
      expect(line).not.toMatch(/TEMP B-TREE/);
    }
  }

  it("lists runs by index range in every filter combination, without sorting", () => {
    const lines = plans((store, { workflowId, runId }) => {
      store.listRuns({ limit: 50 });
      store.listRuns({ order: "oldest", limit: 50 });
      store.listRuns({ workflowId, limit: 50 });
      store.listRuns({ workflowId, statuses: ["queued", "running"], limit: 50 });
      store.listRuns({ statuses: ["queued"], order: "oldest" });
      store.listRuns({ parentRunId: runId, limit: 50 });
      store.listRuns({ workflowId, statuses: ["queued"], beforeRunId: runId, limit: 50 });
      store.listRuns({ beforeRunId: runId, order: "oldest", limit: 50 });
    });
    const listings = lines.filter((line) => line.includes('from "runs"'));
    expectIndexOnly(listings);
  });

  it("lists events, channel-filtered events and maxCursor by index range", () => {
    const lines = plans((store, { runId }) => {
      store.listEvents(runId, { afterCursor: 1, limit: 1000 });
      store.listEvents(runId, { channels: ["lifecycle"], afterCursor: 1, limit: 1000 });
      store.listEvents(runId, { channels: ["log", "agent", "output"] });
      store.maxCursor(runId);
    });
    expectIndexOnly(lines);
    expect(lines.filter((line) => line.includes("run_events_channel"))).toHaveLength(4);
  });

  it("finds idempotency keys and last cron fires by index", () => {
    const lines = plans((store, { workflowId, runId }) => {
      store.createRun({
        workflowId,
        triggerKind: "manual",
        idempotencyKey: "k",
        parentRunId: runId,
      });
      store.createRun({ workflowId, triggerKind: "manual", idempotencyKey: "k" });
      store.lastCronFire(workflowId, 0);
    });
    const reads = lines.filter((line) => line.startsWith("select"));
    expectIndexOnly(reads);
    expect(reads.filter((line) => line.includes("runs_parent_idempotency_key"))).toHaveLength(2);
  });
});

describe("afterCommit failures", () => {
  it("keeps the commit, runs every callback, and rethrows the first failure", () => {
    const store = openStore({ path });
    try {
      const workflowId = store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "",
      }).id;
      const ran: string[] = [];
      expect(() =>
        store.transaction(() => {
          store.createRun({ workflowId, triggerKind: "manual" });
          store.afterCommit(() => {
            ran.push("first");
            throw new Error("listener broke");
          });
          store.afterCommit(() => ran.push("second"));
        }),
      ).toThrow("listener broke");
      expect(ran).toEqual(["first", "second"]);
      expect(store.listRuns()).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});

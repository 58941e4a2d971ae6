/**
 * The store contract suite (spec 02 §4.6–4.7, acceptance checks 50–54): every observable rule
 * the supervisor, scheduler and server rely on, written against the `Store` interface only.
 * Run it against the real SQLite store and against any fake of the ports (`SupervisorStore`,
 * `SchedulerStore`) so both obey one contract. Needs vitest (an optional peer dependency).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { JsonValue, RunEvent } from "../internal/sdk.ts";
import type { Store } from "../types.ts";
import {
  createManualClock,
  outputLineEvent,
  statusEvent,
  testManifest,
  textDeltaEvent,
  type ManualClock,
} from "./fixtures.ts";

/** Makes a fresh, empty store whose timestamps come from `now`. */
export type StoreFactory = (options: { now: () => number }) => Store;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

/**
 * Registers the contract tests under `describe(name)`. Each test gets a fresh store from
 * `makeStore` and closes it afterwards.
 */
export function describeStoreContract(name: string, makeStore: StoreFactory): void {
  describe(name, () => {
    let open: Store[] = [];
    afterEach(() => {
      for (const store of open) store.close();
      open = [];
    });
    const setup = (): { store: Store; clock: ManualClock; workflowId: string } => {
      const clock = createManualClock();
      const store = makeStore({ now: () => clock.now() });
      open.push(store);
      const workflowId = store.upsertWorkflow({
        slug: "echo",
        manifest: testManifest("echo"),
        program: "export {}",
      }).id;
      return { store, clock, workflowId };
    };

    describe("transaction and afterCommit", () => {
      it("commits the callback's writes and returns its value", () => {
        const { store, workflowId } = setup();
        const id = store.transaction(
          () => store.createRun({ workflowId, triggerKind: "manual" }).run.id,
        );
        expect(store.getRun(id)?.status).toBe("queued");
      });

      it("rolls back every write when the callback throws, and rethrows", () => {
        const { store, workflowId } = setup();
        const boom = new Error("boom");
        expect(() =>
          store.transaction(() => {
            store.createRun({ workflowId, triggerKind: "manual" });
            throw boom;
          }),
        ).toThrow(boom);
        expect(store.listRuns()).toEqual([]);
      });

      it("joins nested calls: an inner throw rolls back the outer work even if caught", () => {
        const { store, workflowId } = setup();
        expect(() =>
          store.transaction(() => {
            store.createRun({ workflowId, triggerKind: "manual" });
            try {
              store.transaction(() => {
                throw new Error("inner");
              });
            } catch {
              // swallowed on purpose: the outer must still not commit half of the work
            }
          }),
        ).toThrow(/inner/);
        expect(store.listRuns()).toEqual([]);
      });

      it("refuses an async callback with VALIDATION and writes nothing", () => {
        const { store, workflowId } = setup();
        expect(
          codeOf(() =>
            store.transaction(() => {
              store.createRun({ workflowId, triggerKind: "manual" });
              return Promise.resolve();
            }),
          ),
        ).toBe("VALIDATION");
        expect(store.listRuns()).toEqual([]);
      });

      it("runs afterCommit callbacks after the outermost commit, in order, and drops them on rollback", () => {
        const { store, workflowId } = setup();
        const seen: string[] = [];
        store.afterCommit(() => seen.push("outside"));
        expect(seen).toEqual(["outside"]);
        store.transaction(() => {
          const { run } = store.createRun({ workflowId, triggerKind: "manual" });
          store.transaction(() =>
            store.afterCommit(() => seen.push(`inner:${String(store.getRun(run.id) !== null)}`)),
          );
          store.afterCommit(() => seen.push("outer"));
          expect(seen).toEqual(["outside"]);
        });
        expect(seen).toEqual(["outside", "inner:true", "outer"]);
        expect(() =>
          store.transaction(() => {
            store.afterCommit(() => seen.push("never"));
            throw new Error("rollback");
          }),
        ).toThrow("rollback");
        expect(seen).toHaveLength(3);
      });
    });

    describe("workflows", () => {
      it("upserts by slug keeping id and createdAt, replacing the rest", () => {
        const { store, clock } = setup();
        const first = store.upsertWorkflow({
          slug: "digest",
          manifest: testManifest("digest", { title: "Daily digest" }),
          program: "v1",
          config: { catch_up: "once" },
        });
        expect(first).toMatchObject({
          slug: "digest",
          name: "digest",
          title: "Daily digest",
          program: "v1",
        });
        expect(first.config).toEqual({ catch_up: "once" });
        clock.advance(1000);
        const second = store.upsertWorkflow({
          slug: "digest",
          manifest: testManifest("digest"),
          program: "v2",
        });
        expect(second.id).toBe(first.id);
        expect(second.createdAt).toBe(first.createdAt);
        expect(second.updatedAt).toBe(first.createdAt + 1000);
        expect(second).toMatchObject({ program: "v2", title: null, config: {} });
        expect(store.getWorkflow("digest")).toEqual(second);
        expect(store.getWorkflowById(first.id)).toEqual(second);
      });

      it("lists workflows by slug ascending and returns null for unknown ones", () => {
        const { store } = setup();
        store.upsertWorkflow({ slug: "alpha", manifest: testManifest("alpha"), program: "" });
        expect(store.listWorkflows().map((w) => w.slug)).toEqual(["alpha", "echo"]);
        expect(store.getWorkflow("nope")).toBeNull();
        expect(store.getWorkflowById("nope")).toBeNull();
      });

      it("rejects a bad manifest, a slug mismatch and a non-JSON config with VALIDATION", () => {
        const { store } = setup();
        const bad = { slug: "x", manifest: { slug: "x" } as never, program: "" };
        expect(codeOf(() => store.upsertWorkflow(bad))).toBe("VALIDATION");
        expect(
          codeOf(() =>
            store.upsertWorkflow({ slug: "y", manifest: testManifest("x"), program: "" }),
          ),
        ).toBe("VALIDATION");
        expect(
          codeOf(() =>
            store.upsertWorkflow({
              slug: "x",
              manifest: testManifest("x"),
              program: "",
              config: { when: new Date() } as never,
            }),
          ),
        ).toBe("VALIDATION");
        expect(store.getWorkflow("x")).toBeNull();
      });
    });

    describe("runs", () => {
      it("creates a queued run with zero tallies and input null when omitted", () => {
        const { store, clock, workflowId } = setup();
        const { run, created } = store.createRun({ workflowId, triggerKind: "manual" });
        expect(created).toBe(true);
        expect(run).toMatchObject({
          workflowId,
          status: "queued",
          triggerKind: "manual",
          input: null,
          output: null,
          error: null,
          parentRunId: null,
          idempotencyKey: null,
          restarts: 0,
          tokensIn: 0,
          tokensOut: 0,
          usdMicros: 0,
          createdAt: clock.now(),
          startedAt: null,
          endedAt: null,
        });
        expect(run.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
        expect(store.getRun(run.id)).toEqual(run);
      });

      it("round-trips JSON input exactly", () => {
        const { store, workflowId } = setup();
        const input: JsonValue = { n: 7, tags: ["a", "b"], nested: { ok: true, none: null } };
        const { run } = store.createRun({ workflowId, triggerKind: "webhook", input });
        expect(store.getRun(run.id)?.input).toEqual(input);
        expect(
          store.createRun({ workflowId, triggerKind: "manual", input: null }).run.input,
        ).toBeNull();
      });

      it("finds instead of creating on a reused idempotency key, with or without a parent", () => {
        const { store, workflowId } = setup();
        const a = store.createRun({ workflowId, triggerKind: "manual", idempotencyKey: "k1" });
        const b = store.createRun({ workflowId, triggerKind: "manual", idempotencyKey: "k1" });
        expect(b).toEqual({ run: a.run, created: false });
        const child = store.createRun({
          workflowId,
          triggerKind: "manual",
          parentRunId: a.run.id,
          idempotencyKey: "k1",
        });
        expect(child.created).toBe(true);
        const again = store.createRun({
          workflowId,
          triggerKind: "manual",
          parentRunId: a.run.id,
          idempotencyKey: "k1",
        });
        expect(again).toEqual({ run: child.run, created: false });
        expect(
          store.createRun({ workflowId, triggerKind: "manual", idempotencyKey: "k2" }).created,
        ).toBe(true);
        const other = store.upsertWorkflow({
          slug: "other",
          manifest: testManifest("other"),
          program: "",
        });
        expect(
          codeOf(() =>
            store.createRun({ workflowId: other.id, triggerKind: "manual", idempotencyKey: "k1" }),
          ),
        ).toBe("CONFLICT");
        expect(store.listRuns()).toHaveLength(3);
      });

      it("rejects unknown workflows and parents with NOT_FOUND naming which", () => {
        const { store, workflowId } = setup();
        const noWorkflow = errorOf(() =>
          store.createRun({ workflowId: "nope", triggerKind: "manual" }),
        );
        expect(noWorkflow.code).toBe("NOT_FOUND");
        expect(noWorkflow.message).toMatch(/workflow/i);
        const noParent = errorOf(() =>
          store.createRun({ workflowId, triggerKind: "manual", parentRunId: "nope" }),
        );
        expect(noParent.code).toBe("NOT_FOUND");
        expect(noParent.message).toMatch(/parent/i);
      });

      it("rejects non-JSON input and bad trigger kinds with VALIDATION and writes nothing", () => {
        const { store, workflowId } = setup();
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        for (const input of [
          () => 1,
          1n,
          Number.NaN,
          Infinity,
          new Date(),
          cyclic,
          [undefined],
          Symbol("s"),
        ]) {
          expect(
            codeOf(() =>
              store.createRun({ workflowId, triggerKind: "manual", input: input as never }),
            ),
          ).toBe("VALIDATION");
        }
        expect(codeOf(() => store.createRun({ workflowId, triggerKind: "timer" as never }))).toBe(
          "VALIDATION",
        );
        expect(store.listRuns()).toEqual([]);
      });

      it("updates status with output, error and times, honouring expect", () => {
        const { store, workflowId } = setup();
        const { run } = store.createRun({ workflowId, triggerKind: "manual" });
        expect(
          store.updateRunStatus(run.id, "pending", { startedAt: 100, expect: ["queued"] }),
        ).toBe(true);
        expect(store.updateRunStatus(run.id, "running", { expect: ["queued"] })).toBe(false);
        expect(store.updateRunStatus(run.id, "running", { startedAt: 200 })).toBe(true);
        expect(store.getRun(run.id)).toMatchObject({ status: "running", startedAt: 100 });
        store.updateRunStatus(run.id, "failed", {
          output: { healthy: false },
          error: { code: "PROGRAM_ERROR", message: "not healthy" },
          endedAt: 300,
        });
        expect(store.getRun(run.id)).toMatchObject({
          status: "failed",
          output: { healthy: false },
          error: { code: "PROGRAM_ERROR", message: "not healthy" },
          startedAt: 100,
          endedAt: 300,
        });
        expect(codeOf(() => store.updateRunStatus("nope", "running"))).toBe("NOT_FOUND");
        expect(codeOf(() => store.updateRunStatus("nope", "running", { expect: ["queued"] }))).toBe(
          "NOT_FOUND",
        );
        expect(codeOf(() => store.updateRunStatus(run.id, "done" as never))).toBe("VALIDATION");
        expect(
          codeOf(() => store.updateRunStatus(run.id, "failed", { error: { code: 1 } as never })),
        ).toBe("VALIDATION");
      });

      it("counts restarts and adds usage, rejecting bad amounts and unknown runs", () => {
        const { store, workflowId } = setup();
        const { run } = store.createRun({ workflowId, triggerKind: "manual" });
        expect(store.incrementRestarts(run.id)).toBe(1);
        expect(store.incrementRestarts(run.id)).toBe(2);
        store.addRunUsage(run.id, { tokensIn: 120, tokensOut: 30 });
        store.addRunUsage(run.id, { tokensIn: 1, usdMicros: 5 });
        expect(store.getRunUsage(run.id)).toEqual({ tokensIn: 121, tokensOut: 30, usdMicros: 5 });
        expect(store.getRun(run.id)).toMatchObject({ restarts: 2, tokensIn: 121 });
        expect(codeOf(() => store.addRunUsage(run.id, { tokensIn: -1 }))).toBe("VALIDATION");
        expect(codeOf(() => store.addRunUsage(run.id, { usdMicros: 1.5 }))).toBe("VALIDATION");
        expect(codeOf(() => store.addRunUsage("nope", { tokensIn: 1 }))).toBe("NOT_FOUND");
        expect(codeOf(() => store.incrementRestarts("nope"))).toBe("NOT_FOUND");
        expect(codeOf(() => store.getRunUsage("nope"))).toBe("NOT_FOUND");
        expect(store.getRunUsage(run.id)).toEqual({ tokensIn: 121, tokensOut: 30, usdMicros: 5 });
      });
    });

    describe("listRuns", () => {
      const seed = (store: Store, clock: ManualClock, workflowId: string): string[] => {
        // Two runs per millisecond: same-ms rows must still come back in insertion order.
        const ids: string[] = [];
        for (let index = 0; index < 6; index++) {
          if (index % 2 === 0) clock.advance(1);
          ids.push(store.createRun({ workflowId, triggerKind: "manual" }).run.id);
        }
        return ids;
      };

      it("lists newest first (same-millisecond runs in reverse insertion order) and oldest first", () => {
        const { store, clock, workflowId } = setup();
        const ids = seed(store, clock, workflowId);
        expect(store.listRuns().map((r) => r.id)).toEqual([...ids].reverse());
        expect(store.listRuns({ order: "oldest" }).map((r) => r.id)).toEqual(ids);
      });

      it("filters by workflow, statuses and parent; statuses [] matches nothing", () => {
        const { store, clock, workflowId } = setup();
        const ids = seed(store, clock, workflowId);
        const other = store.upsertWorkflow({
          slug: "other",
          manifest: testManifest("other"),
          program: "",
        }).id;
        const child = store.createRun({
          workflowId: other,
          triggerKind: "manual",
          parentRunId: ids[0]!,
        }).run.id;
        store.updateRunStatus(ids[1]!, "running");
        store.updateRunStatus(ids[4]!, "completed");
        expect(store.listRuns({ workflowId: other }).map((r) => r.id)).toEqual([child]);
        expect(store.listRuns({ statuses: ["running", "completed"] }).map((r) => r.id)).toEqual([
          ids[4]!,
          ids[1]!,
        ]);
        expect(
          store.listRuns({ workflowId, statuses: ["queued"], order: "oldest" }).map((r) => r.id),
        ).toEqual([ids[0]!, ids[2]!, ids[3]!, ids[5]!]);
        expect(store.listRuns({ parentRunId: ids[0]! }).map((r) => r.id)).toEqual([child]);
        expect(store.listRuns({ statuses: [] })).toEqual([]);
        expect(codeOf(() => store.listRuns({ statuses: ["done" as never] }))).toBe("VALIDATION");
      });

      it("pages with limit/offset and with beforeRunId in both orders", () => {
        const { store, clock, workflowId } = setup();
        const ids = seed(store, clock, workflowId);
        const newest = [...ids].reverse();
        expect(store.listRuns({ limit: 2 }).map((r) => r.id)).toEqual(newest.slice(0, 2));
        expect(store.listRuns({ limit: 2, offset: 2 }).map((r) => r.id)).toEqual(
          newest.slice(2, 4),
        );
        expect(store.listRuns({ offset: 5 }).map((r) => r.id)).toEqual(newest.slice(5));
        expect(store.listRuns({ limit: 0 })).toEqual([]);
        expect(store.listRuns({ beforeRunId: newest[1]!, limit: 2 }).map((r) => r.id)).toEqual(
          newest.slice(2, 4),
        );
        // The anchor's same-millisecond neighbour is on the right side of the keyset in both orders.
        expect(store.listRuns({ beforeRunId: newest[0]! }).map((r) => r.id)).toEqual(
          newest.slice(1),
        );
        expect(store.listRuns({ beforeRunId: ids[2]!, order: "oldest" }).map((r) => r.id)).toEqual(
          ids.slice(3),
        );
        expect(
          store
            .listRuns({ workflowId, statuses: ["queued"], beforeRunId: newest[2]!, limit: 10 })
            .map((r) => r.id),
        ).toEqual(newest.slice(3));
        expect(codeOf(() => store.listRuns({ beforeRunId: "nope" }))).toBe("NOT_FOUND");
        expect(codeOf(() => store.listRuns({ beforeRunId: ids[0]!, offset: 1 }))).toBe(
          "VALIDATION",
        );
        expect(codeOf(() => store.listRuns({ limit: -1 }))).toBe("VALIDATION");
      });
    });

    describe("events", () => {
      const setupRun = () => {
        const context = setup();
        const runId = context.store.createRun({
          workflowId: context.workflowId,
          triggerKind: "manual",
        }).run.id;
        return { ...context, runId };
      };

      it("appends and lists by cursor, suffix after any cursor, with limit", () => {
        const { store, runId } = setupRun();
        expect(store.maxCursor(runId)).toBe(0);
        const events: { cursor: number; event: RunEvent }[] = [
          { cursor: 1, event: statusEvent(runId, "queued") },
          { cursor: 1_000_001, event: statusEvent(runId, "pending") },
          { cursor: 1_000_002, event: outputLineEvent(runId, "hello", { seq: 2 }) },
          { cursor: 2_000_001, event: textDeltaEvent(runId, "turn-1", "hi") },
        ];
        store.appendEvents(runId, events.slice(0, 1));
        store.appendEvents(runId, events.slice(1));
        expect(store.maxCursor(runId)).toBe(2_000_001);
        const all = store.listEvents(runId);
        expect(all).toEqual(events.map((e) => ({ runId, ...e })));
        for (const [index, row] of all.entries()) {
          expect(store.listEvents(runId, { afterCursor: row.cursor })).toEqual(
            all.slice(index + 1),
          );
        }
        expect(store.listEvents(runId, { afterCursor: 0 })).toEqual(all);
        expect(store.listEvents(runId, { afterCursor: 1, limit: 2 })).toEqual(all.slice(1, 3));
        expect(store.listEvents("unknown-run")).toEqual([]);
        expect(store.maxCursor("unknown-run")).toBe(0);
      });

      it("filters by channel without renumbering cursors", () => {
        const { store, runId } = setupRun();
        store.appendEvents(runId, [
          { cursor: 1, event: statusEvent(runId, "queued") },
          { cursor: 2, event: outputLineEvent(runId, "a", { seq: 2 }) },
          { cursor: 3, event: textDeltaEvent(runId, "turn-1", "b", { seq: 3 }) },
          { cursor: 4, event: statusEvent(runId, "running", { seq: 4 }) },
        ]);
        const cursors = (channels: Parameters<Store["listEvents"]>[1]) =>
          store.listEvents(runId, channels).map((r) => r.cursor);
        expect(cursors({ channels: ["lifecycle"] })).toEqual([1, 4]);
        expect(cursors({ channels: ["log", "agent"] })).toEqual([2, 3]);
        expect(cursors({ channels: ["lifecycle", "log"], afterCursor: 1, limit: 1 })).toEqual([2]);
        expect(cursors({ channels: [] })).toEqual([]);
        expect(codeOf(() => store.listEvents(runId, { channels: ["logs" as never] }))).toBe(
          "VALIDATION",
        );
      });

      it("rejects a batch with a duplicate cursor with CONFLICT and writes none of it", () => {
        const { store, runId } = setupRun();
        store.appendEvents(runId, [{ cursor: 1, event: statusEvent(runId, "queued") }]);
        expect(
          codeOf(() =>
            store.appendEvents(runId, [
              { cursor: 2, event: statusEvent(runId, "pending", { seq: 2 }) },
              { cursor: 2, event: statusEvent(runId, "running", { seq: 2 }) },
            ]),
          ),
        ).toBe("CONFLICT");
        expect(
          codeOf(() =>
            store.appendEvents(runId, [
              { cursor: 3, event: statusEvent(runId, "pending", { seq: 3 }) },
              { cursor: 1, event: statusEvent(runId, "running") },
            ]),
          ),
        ).toBe("CONFLICT");
        expect(store.listEvents(runId).map((r) => r.cursor)).toEqual([1]);
      });

      it("rejects bad cursors, bad events and unknown runs; an empty batch is a no-op", () => {
        const { store, runId } = setupRun();
        const event = statusEvent(runId, "queued");
        expect(codeOf(() => store.appendEvents(runId, [{ cursor: 0, event }]))).toBe("VALIDATION");
        expect(codeOf(() => store.appendEvents(runId, [{ cursor: 1.5, event }]))).toBe(
          "VALIDATION",
        );
        expect(
          codeOf(() =>
            store.appendEvents(runId, [{ cursor: 1, event: { ...event, extra: 1 } as never }]),
          ),
        ).toBe("VALIDATION");
        expect(
          codeOf(() =>
            store.appendEvents(runId, [{ cursor: 1, event: statusEvent("other", "queued") }]),
          ),
        ).toBe("VALIDATION");
        expect(
          codeOf(() =>
            store.appendEvents(runId, [
              {
                cursor: 1,
                event: { ...outputLineEvent(runId, ""), kind: "output", value: 1n } as never,
              },
            ]),
          ),
        ).toBe("VALIDATION");
        expect(
          codeOf(() =>
            store.appendEvents("nope", [{ cursor: 1, event: statusEvent("nope", "queued") }]),
          ),
        ).toBe("NOT_FOUND");
        store.appendEvents(runId, []);
        expect(store.listEvents(runId)).toEqual([]);
      });

      it("keeps a failed batch inside a caller's transaction from leaving half of itself", () => {
        const { store, runId } = setupRun();
        store.appendEvents(runId, [{ cursor: 2, event: statusEvent(runId, "queued", { seq: 2 }) }]);
        store.transaction(() => {
          store.updateRunStatus(runId, "pending");
          expect(
            codeOf(() =>
              store.appendEvents(runId, [
                { cursor: 1, event: statusEvent(runId, "queued") },
                { cursor: 2, event: statusEvent(runId, "pending", { seq: 2 }) },
              ]),
            ),
          ).toBe("CONFLICT");
        });
        expect(store.listEvents(runId).map((r) => r.cursor)).toEqual([2]);
        expect(store.getRun(runId)?.status).toBe("pending");
      });
    });

    describe("cron fires", () => {
      it("records fires exactly once and reports the latest", () => {
        const { store, workflowId } = setup();
        expect(store.lastCronFire(workflowId, 0)).toBeNull();
        const fire = (fireTime: number) =>
          store.transaction(() => {
            const { run } = store.createRun({ workflowId, triggerKind: "cron" });
            store.recordCronFire({ workflowId, triggerIndex: 0, fireTime, runId: run.id });
            store.appendEvents(run.id, [{ cursor: 1, event: statusEvent(run.id, "queued") }]);
            return run.id;
          });
        fire(60_000);
        fire(120_000);
        expect(store.lastCronFire(workflowId, 0)).toBe(120_000);
        expect(store.lastCronFire(workflowId, 1)).toBeNull();
        expect(codeOf(() => fire(60_000))).toBe("CONFLICT");
        // The conflicting fire's run and queued event rolled back with it.
        expect(store.listRuns({ workflowId })).toHaveLength(2);
        const runId = store.listRuns()[0]?.id ?? "";
        expect(
          codeOf(() =>
            store.recordCronFire({ workflowId: "nope", triggerIndex: 0, fireTime: 1, runId }),
          ),
        ).toBe("NOT_FOUND");
        expect(
          codeOf(() =>
            store.recordCronFire({ workflowId, triggerIndex: 0, fireTime: 1, runId: "nope" }),
          ),
        ).toBe("NOT_FOUND");
        expect(
          codeOf(() => store.recordCronFire({ workflowId, triggerIndex: -1, fireTime: 1, runId })),
        ).toBe("VALIDATION");
      });
    });

    describe("artifacts", () => {
      it("records artifacts and lists them in creation order", () => {
        const { store, clock, workflowId } = setup();
        const { run } = store.createRun({ workflowId, triggerKind: "manual" });
        const first = store.createArtifact({
          runId: run.id,
          name: "report.txt",
          contentType: "text/plain",
          path: "/data/runs/x/artifacts/report.txt",
          size: 8,
        });
        expect(first).toMatchObject({
          runId: run.id,
          name: "report.txt",
          size: 8,
          metadata: null,
          createdAt: clock.now(),
        });
        const second = store.createArtifact({
          runId: run.id,
          name: "a.json",
          contentType: "application/json",
          path: "/data/runs/x/artifacts/a.json",
          size: 0,
          metadata: { rows: 3 },
        });
        expect(store.listArtifacts(run.id)).toEqual([first, second]);
        expect(store.listArtifacts("nope")).toEqual([]);
      });

      it("rejects bad sizes, names and paths with VALIDATION and unknown runs with NOT_FOUND", () => {
        const { store, workflowId } = setup();
        const { run } = store.createRun({ workflowId, triggerKind: "manual" });
        const base = {
          runId: run.id,
          name: "a.txt",
          contentType: "text/plain",
          path: "/tmp/a.txt",
          size: 1,
        };
        expect(codeOf(() => store.createArtifact({ ...base, size: -1 }))).toBe("VALIDATION");
        expect(codeOf(() => store.createArtifact({ ...base, size: 1.5 }))).toBe("VALIDATION");
        expect(codeOf(() => store.createArtifact({ ...base, name: "../x" }))).toBe("VALIDATION");
        expect(codeOf(() => store.createArtifact({ ...base, path: "relative/a.txt" }))).toBe(
          "VALIDATION",
        );
        expect(codeOf(() => store.createArtifact({ ...base, metadata: [] as never }))).toBe(
          "VALIDATION",
        );
        expect(codeOf(() => store.createArtifact({ ...base, runId: "nope" }))).toBe("NOT_FOUND");
        expect(store.listArtifacts(run.id)).toEqual([]);
      });
    });

    describe("close", () => {
      it("is idempotent and makes every later call throw INTERNAL mentioning closed", () => {
        const { store, workflowId } = setup();
        store.close();
        store.close();
        const error = errorOf(() => store.getWorkflowById(workflowId));
        expect(error.code).toBe("INTERNAL");
        expect(error.message).toMatch(/closed/);
        expect(codeOf(() => store.listRuns())).toBe("INTERNAL");
        expect(codeOf(() => store.transaction(() => 1))).toBe("INTERNAL");
        open = open.filter((s) => s !== store);
      });
    });
  });
}

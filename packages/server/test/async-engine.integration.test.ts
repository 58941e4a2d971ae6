/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- tests read untyped JSON wire frames and bodies */
/**
 * The server over an engine that answers later than it publishes (a network database): a
 * database outage never crashes the server and is reported by `/healthz` until it recovers; the
 * WebSocket channel stays exactly-once and in order across the catch-up→live seam while events
 * keep arriving during its reads, whether events are published at once or on a later turn; live
 * events are routed by the published workflow, never by reading each run back; the runs feed
 * holds what changes during its snapshot read and resyncs after a failed read.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EngineError } from "@promenade/workflow/errors";
import type { EngineApi } from "../src/index.ts";
import type { FakeEngine, FakeEngineOptions } from "../src/testing/index.ts";
import { http, startHarness, until, WsClient } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function connect(): Promise<WsClient> {
  const c = new WsClient(h, { protocols: ["promenade.events.v1"] });
  await c.opened();
  await c.next((f) => f.type === "hello");
  return c;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Events of `sub` as `[cursor, …]`, with the frame types in order. */
function framesOf(c: WsClient, sub: string): { types: string[]; cursors: number[] } {
  const mine = c.frames.filter((f) => f.sub === sub);
  return {
    types: mine.map((f) => f.type),
    cursors: mine.filter((f) => f.type === "event").map((f) => f.cursor),
  };
}

describe("engine failures", () => {
  it("maps an error thrown at once and the same error rejected later to the same response", async () => {
    let mode: "throw" | "reject" = "throw";
    let code = "NOT_FOUND";
    const fail = (): never => {
      throw new EngineError(code as "NOT_FOUND", "Unknown run: for this test", "a hint");
    };
    h = await startHarness({}, {}, (engine) => ({
      ...engine,
      getRun: () =>
        mode === "throw"
          ? fail()
          : Promise.reject(
              new EngineError(code as "NOT_FOUND", "Unknown run: for this test", "a hint"),
            ),
    }));
    const path = "/api/runs/01JDA7Q3M8X2ZC4K9T5VQW1HNB";
    const thrown = await http(h, "GET", path);
    mode = "reject";
    const rejected = await http(h, "GET", path);
    expect(thrown.status).toBe(404);
    expect(rejected.status).toBe(404);
    expect(rejected.json).toEqual(thrown.json);
    expect(thrown.json.error).toEqual({
      code: "NOT_FOUND",
      message: "Unknown run: for this test",
      hint: "a hint",
    });
    code = "INTERNAL";
    mode = "throw";
    const thrown500 = await http(h, "GET", path);
    mode = "reject";
    const rejected500 = await http(h, "GET", path);
    expect([thrown500.status, rejected500.status]).toEqual([500, 500]);
    expect(rejected500.json).toEqual(thrown500.json);
  });
});

describe("a database outage", () => {
  it("answers every route with a 500 JSON error, never crashes, and recovers without a restart", async () => {
    h = await startHarness({
      env: () => ({ PROMENADE_WEBHOOK_TOKEN__HOOKED: "t".repeat(32) }),
    });
    h.engine.addWorkflow({ slug: "echo" });
    h.engine.addWorkflow({ slug: "hooked", triggers: [{ kind: "webhook", auth: "token" }] });
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    h.engine.setHealthy(false);
    const internal = { error: { code: "INTERNAL", message: "Internal server error." } };
    for (const [method, path] of [
      ["GET", "/api/workflows"],
      ["GET", "/api/workflows/echo"],
      ["POST", "/api/workflows/echo/runs"],
      ["GET", "/api/runs"],
      [`GET`, `/api/runs/${run.id}`],
      ["GET", `/api/runs/${run.id}/events`],
      ["GET", `/api/runs/${run.id}/artifacts`],
      ["POST", `/api/runs/${run.id}/cancel`],
      ["GET", "/metrics"],
    ] as const) {
      const r = await http(h, method, path);
      expect(r.status, `${method} ${path}`).toBe(500);
      expect(r.json, path).toEqual(internal);
      expect(r.text).not.toContain("cannot be reached");
    }
    const hook = await http(h, "POST", "/hooks/hooked/0", {
      headers: { authorization: `Bearer ${"t".repeat(32)}` },
      body: "{}",
    });
    expect(hook.status).toBe(500);
    const deploy = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({ program: 'export const meta = {"slug":"x"};' }),
    });
    expect(deploy.status).toBe(500);
    expect(h.logs.filter((l) => l.startsWith("internal error on ")).length).toBeGreaterThan(5);
    expect(h.logs.some((l) => l.includes("The database cannot be reached."))).toBe(true);

    h.engine.setHealthy(true);
    expect((await http(h, "GET", `/api/runs/${run.id}`)).json.run.id).toBe(run.id);
    expect((await http(h, "POST", "/api/workflows/echo/runs")).status).toBe(201);
  });

  it("makes /healthz report the database down while ping fails and up again after, logging each change once", async () => {
    h = await startHarness();
    expect(await http(h, "GET", "/healthz")).toMatchObject({ status: 200, json: { status: "ok" } });
    h.engine.setHealthy(false);
    for (let i = 0; i < 3; i++) {
      const sick = await http(h, "GET", "/healthz");
      expect(sick.status).toBe(503);
      expect(sick.json).toEqual({ status: "unavailable", reason: "database" });
    }
    h.engine.setHealthy(true);
    expect((await http(h, "GET", "/healthz")).json).toEqual({ status: "ok" });
    expect(h.logs.filter((l) => l.startsWith("health check failed"))).toHaveLength(1);
    expect(h.logs.filter((l) => l.includes("available again"))).toHaveLength(1);
  });

  it("reports the database down when ping does not answer in time", async () => {
    let hang = true;
    h = await startHarness({}, {}, (engine) => ({
      ...engine,
      ping: () => (hang ? new Promise<void>(() => {}) : engine.ping()),
    }));
    // ping never settles: only the health check's own time limit can answer.
    const sick = await http(h, "GET", "/healthz");
    expect(sick.status).toBe(503);
    expect(sick.json).toEqual({ status: "unavailable", reason: "database" });
    hang = false;
    expect((await http(h, "GET", "/healthz")).status).toBe(200);
  });

  it("answers a WebSocket subscription with an INTERNAL error frame and keeps the socket open", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "idle" });
    const run = await h.engine.startRun("idle", { triggerKind: "manual" });
    const c = await connect();
    h.engine.setHealthy(false);
    c.send({ type: "subscribe", sub: "r", runId: run.id });
    expect(await c.next((f) => f.type === "error" && f.sub === "r")).toEqual({
      type: "error",
      sub: "r",
      code: "INTERNAL",
      message: "Internal server error.",
    });
    c.send({ type: "subscribe_runs", sub: "feed" });
    expect((await c.next((f) => f.type === "error" && f.sub === "feed")).code).toBe("INTERNAL");
    h.engine.setHealthy(true);
    // Nothing half-made: the same ids subscribe fine now.
    c.send({ type: "subscribe", sub: "r", runId: run.id });
    await c.next((f) => f.type === "caught_up" && f.sub === "r");
    c.send({ type: "subscribe_runs", sub: "feed" });
    const snap = await c.next((f) => f.type === "runs_snapshot" && f.sub === "feed");
    expect(snap.runs.map((r: any) => r.run.id)).toEqual([run.id]);
    c.close();
  });

  it("resyncs a runs feed whose run read failed, once the database is back", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "idle" });
    const run = await h.engine.startRun("idle", { triggerKind: "manual" });
    const c = await connect();
    c.send({ type: "subscribe_runs", sub: "feed" });
    await c.next((f) => f.type === "runs_snapshot");
    h.engine.setHealthy(false);
    h.engine.setStatus(run.id, "pending"); // committed, but the run cannot be read for the frame
    await sleep(300);
    expect(c.frames.some((f) => f.type === "run")).toBe(false);
    h.engine.setHealthy(true);
    const resync = await c.next((f) => f.type === "runs_snapshot" && f.resync === true);
    expect(resync.runs).toEqual([
      {
        run: expect.objectContaining({ id: run.id, status: "pending" }),
        cursor: expect.any(Number),
      },
    ]);
    h.engine.setStatus(run.id, "running");
    const live = await c.next((f) => f.type === "run");
    expect(live.run.status).toBe("running");
    c.close();
  });
});

describe.each([
  { publish: "sync", latencyMs: 20 },
  { publish: "deferred", latencyMs: 20 },
  { publish: "deferred", latencyMs: 0 },
] as const)("WebSocket seam over a slow engine (publish $publish, $latencyMs ms reads)", (mode) => {
  const engineOptions: FakeEngineOptions = { publish: mode.publish, latencyMs: mode.latencyMs };

  it("delivers every event once, in order, while events arrive during each catch-up read", async () => {
    h = await startHarness({}, engineOptions);
    h.engine.addWorkflow({ slug: "manual" });
    const run = await h.engine.startRun("manual", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "running");
    for (let i = 0; i < 700; i++) h.engine.emit(run.id, { kind: "phase", name: `a${i}`, id: "a" });
    const sockets = [await connect(), await connect()];
    // Keep appending — one event per millisecond or so — while subscriptions catch up.
    let appending = true;
    const appender = (async () => {
      for (let i = 0; appending; i++) {
        h.engine.emit(run.id, { kind: "phase", name: `b${i}`, id: "b" });
        if (i % 3 === 0) await sleep(1);
      }
    })();
    const subs: { c: WsClient; sub: string; after: number }[] = [];
    for (let i = 0; i < 12; i++) {
      const c = sockets[i % 2]!;
      const log = h.engine.peekEvents(run.id);
      const after = i % 3 === 0 ? 0 : (log[Math.floor(Math.random() * log.length)]?.cursor ?? 0);
      subs.push({ c, sub: `s${i}`, after });
      c.send({ type: "subscribe", sub: `s${i}`, runId: run.id, after, verbose: true });
      await sleep(15);
    }
    await sleep(100);
    appending = false;
    await appender;
    h.engine.setStatus(run.id, "completed");
    for (const { c, sub } of subs) await c.next((f) => f.type === "end" && f.sub === sub);
    const stored = h.engine.peekEvents(run.id).map((e) => e.cursor);
    for (const { c, sub, after } of subs) {
      const { types, cursors } = framesOf(c, sub);
      expect(cursors, sub).toEqual(stored.filter((cursor) => cursor > after));
      expect(types[0]).toBe("subscribed");
      expect(types.filter((t) => t === "caught_up")).toHaveLength(1);
      expect(types.at(-1)).toBe("end");
    }
    for (const c of sockets) c.close();
  });

  it("ends a subscription that resumes past the terminal event, with the run's final state", async () => {
    h = await startHarness({}, engineOptions);
    h.engine.addWorkflow({ slug: "manual" });
    const run = await h.engine.startRun("manual", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "completed");
    const last = h.engine.peekEvents(run.id).at(-1)!.cursor;
    const c = await connect();
    c.send({ type: "subscribe", sub: "past", runId: run.id, after: last + 5 });
    const end = await c.next((f) => f.type === "end" && f.sub === "past");
    expect(end).toMatchObject({ status: "completed", cursor: last });
    expect(framesOf(c, "past").types).toEqual(["subscribed", "caught_up", "end"]);
    c.close();
  });

  it("ends a live subscription whose run completes while its terminal check is in flight", async () => {
    h = await startHarness({}, engineOptions);
    h.engine.addWorkflow({ slug: "manual" });
    for (let round = 0; round < 10; round++) {
      const run = await h.engine.startRun("manual", { triggerKind: "manual" });
      const c = await connect();
      c.send({ type: "subscribe", sub: "r", runId: run.id, verbose: true });
      await sleep(round * 7);
      h.engine.setStatus(run.id, "running");
      h.engine.setStatus(run.id, "completed");
      const end = await c.next((f) => f.type === "end" && f.sub === "r");
      const stored = h.engine.peekEvents(run.id).map((e) => e.cursor);
      expect(framesOf(c, "r").cursors).toEqual(stored);
      expect(end.cursor).toBe(stored.at(-1));
      c.close();
    }
  });

  it("sends the runs snapshot before any change made while it was read, and each change once", async () => {
    h = await startHarness({}, engineOptions);
    h.engine.addWorkflow({ slug: "manual" });
    const before = await h.engine.startRun("manual", { triggerKind: "manual" });
    const c = await connect();
    c.send({ type: "subscribe_runs", sub: "feed" });
    // Changes while the snapshot is being read (and after).
    h.engine.setStatus(before.id, "pending");
    const during = await h.engine.startRun("manual", { triggerKind: "manual" });
    h.engine.setStatus(before.id, "running");
    h.engine.setStatus(during.id, "cancelled");
    h.engine.setStatus(before.id, "completed");
    await until(() => c.frames.some((f) => f.type === "run" && f.run.status === "completed"));
    const feed = c.frames.filter((f) => f.sub === "feed");
    expect(feed[0].type).toBe("runs_snapshot");
    // A client that applies frames above the cursor it holds ends with the true final states.
    const state = new Map<string, { cursor: number; status: string }>();
    for (const { run, cursor } of feed[0].runs) state.set(run.id, { cursor, status: run.status });
    const seen = new Set<string>();
    for (const f of feed.slice(1)) {
      expect(f.type).toBe("run");
      const key = `${f.runId}@${f.cursor}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
      if ((state.get(f.runId)?.cursor ?? 0) < f.cursor) {
        state.set(f.runId, { cursor: f.cursor, status: f.run.status });
      }
    }
    expect(state.get(before.id)?.status).toBe("completed");
    expect(state.get(during.id)?.status).toBe("cancelled");
    c.close();
  });
});

describe("routing published events", () => {
  /** Counts run reads made through the engine port. */
  function counting(): {
    reads: { getRun: number; workflows: number };
    wrap: (engine: FakeEngine) => EngineApi;
  } {
    const reads = { getRun: 0, workflows: 0 };
    return {
      reads,
      wrap: (engine) => ({
        ...engine,
        getRun: (id: string) => {
          reads.getRun += 1;
          return engine.getRun(id);
        },
        getWorkflowById: (id: string) => {
          reads.workflows += 1;
          return engine.getWorkflowById(id);
        },
        getWorkflow: (slug: string) => {
          reads.workflows += 1;
          return engine.getWorkflow(slug);
        },
      }),
    };
  }

  it("routes run and feed traffic without reading a run per event", async () => {
    const { reads, wrap } = counting();
    h = await startHarness({}, { latencyMs: 5 }, wrap);
    h.engine.addWorkflow({ slug: "alpha" });
    h.engine.addWorkflow({ slug: "beta" });
    const run = await h.engine.startRun("alpha", { triggerKind: "manual" });
    const c = await connect();
    c.send({ type: "subscribe", sub: "tail", runId: run.id, verbose: true });
    await c.next((f) => f.type === "caught_up" && f.sub === "tail");
    c.send({ type: "subscribe_runs", sub: "all" });
    c.send({ type: "subscribe_runs", sub: "beta-only", workflow: "beta" });
    await c.next((f) => f.type === "runs_snapshot" && f.sub === "all");
    await c.next((f) => f.type === "runs_snapshot" && f.sub === "beta-only");
    const baseline = { ...reads };
    for (let i = 0; i < 500; i++) h.engine.emit(run.id, { kind: "phase", name: `p${i}`, id: "p" });
    await until(() => c.frames.filter((f) => f.sub === "tail" && f.type === "event").length >= 501);
    expect(reads).toEqual(baseline); // 500 events, no run or workflow read back
    // Lifecycle changes: at most one read each (the Run a feed frame carries), shared by feeds.
    h.engine.setStatus(run.id, "running");
    h.engine.setStatus(run.id, "completed");
    await c.next((f) => f.type === "end" && f.sub === "tail");
    await until(() => c.frames.some((f) => f.sub === "all" && f.run?.status === "completed"));
    expect(reads.getRun - baseline.getRun).toBeLessThanOrEqual(2);
    expect(reads.workflows).toBe(baseline.workflows);
    // The workflow filter routes by the published slug: beta's feed saw nothing of alpha.
    expect(c.frames.some((f) => f.sub === "beta-only" && f.type === "run")).toBe(false);
    const beta = await h.engine.startRun("beta", { triggerKind: "manual" });
    const frame = await c.next((f) => f.sub === "beta-only" && f.type === "run");
    expect(frame).toMatchObject({
      runId: beta.id,
      run: { workflowSlug: "beta", status: "queued" },
    });
    c.close();
  });

  it("counts started and finished runs by the published workflow slug", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "alpha" });
    const run = await h.engine.startRun("alpha", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "completed");
    await until(() => h.engine.listenerCount() > 0);
    const m = await http(h, "GET", "/metrics");
    expect(m.text).toContain('promenade_runs_started_total{workflow="alpha",trigger="manual"} 1');
    expect(m.text).toContain(
      'promenade_runs_finished_total{workflow="alpha",status="completed"} 1',
    );
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/require-await -- tests read untyped JSON wire frames and bodies */
/**
 * The WebSocket event channel: frame order, filters, resume,
 * seam stress, limits and close codes. If these break, live tails lose or duplicate events.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WsClient, startHarness, until } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function harness(): Promise<Harness> {
  h = await startHarness(
    {},
    {
      behaviors: {
        echo: async (run) => {
          run.phase("one");
          run.log("a line\n");
          run.agentTurn({
            agentName: "writer",
            text: ["Hel", "lo"],
            tool: { name: "search", input: { q: "x" }, summary: "3 hits" },
          });
          return { ok: true };
        },
        phases: async (run) => {
          for (let i = 0; i < 5000; i++) {
            run.phase(`p${i}`);
            if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
          }
          return null;
        },
      },
    },
  );
  h.engine.addWorkflow({ slug: "echo" });
  h.engine.addWorkflow({ slug: "phases" });
  return h;
}

const stored = (runId: string) => h.engine.peekEvents(runId);

async function connect(): Promise<WsClient> {
  const c = new WsClient(h, { protocols: ["promenade.events.v1"] });
  await c.opened();
  await c.next((f) => f.type === "hello");
  return c;
}

describe("run subscriptions", () => {
  it("sends hello, then subscribed, backlog, one caught_up, live events and end", async () => {
    await harness();
    const c = await connect();
    expect(c.frames[0]).toEqual({
      type: "hello",
      protocol: "promenade.events.v1",
      heartbeatMs: 30000,
      limits: { maxSubscriptions: 32, maxMessageBytes: 65536 },
    });
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    c.send({ type: "subscribe", sub: "r1", runId: run.id, verbose: true });
    const end = await c.next((f) => f.type === "end");
    const mine = c.frames.filter((f) => f.sub === "r1");
    expect(mine[0].type).toBe("subscribed");
    expect(mine[0].channels).toEqual(["lifecycle", "phase", "output", "log", "agent"]);
    expect(mine.filter((f) => f.type === "caught_up")).toHaveLength(1);
    expect(mine[mine.length - 1]).toBe(end);
    const cursors = mine.filter((f) => f.type === "event").map((f) => f.cursor);
    expect(cursors).toEqual(stored(run.id).map((e) => e.cursor));
    expect(end.status).toBe("completed");
    expect(end.cursor).toBe(cursors[cursors.length - 1]);
    c.close();
  });

  it("resumes a completed run after a cursor and filters by channel", async () => {
    await harness();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    await h.engine.waitForRun(run.id);
    const all = stored(run.id);
    const c = await connect();
    c.send({ type: "subscribe", sub: "a", runId: run.id, after: all[2]!.cursor, verbose: true });
    await c.next((f) => f.type === "end" && f.sub === "a");
    const a = c.frames.filter((f) => f.sub === "a").map((f) => f.type);
    expect(a).toEqual(["subscribed", ...all.slice(3).map(() => "event"), "caught_up", "end"]);
    c.send({ type: "subscribe", sub: "b", runId: run.id, channels: ["output"] });
    await c.next((f) => f.type === "end" && f.sub === "b");
    const b = c.frames.filter((f) => f.sub === "b");
    expect(b.map((f) => f.type)).toEqual(["subscribed", "event", "caught_up", "end"]);
    expect(b[1].cursor).toBe(all.find((e) => e.event.kind === "output")!.cursor);
    c.close();
  });

  it("seam stress: 50 subscriptions opened during a 5 000-event run each get exactly their suffix", async () => {
    await harness();
    const sockets = await Promise.all([connect(), connect(), connect(), connect(), connect()]);
    const run = await h.engine.startRun("phases", { triggerKind: "manual" });
    const afters: number[] = [];
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 6)));
      const max = await h.engine.maxCursor(run.id);
      const after = i % 2 === 0 ? 0 : Math.floor(Math.random() * max);
      afters.push(after);
      sockets[i % 5]!.send({
        type: "subscribe",
        sub: `s${i}`,
        runId: run.id,
        after,
        verbose: true,
      });
    }
    const frames = () => sockets.flatMap((c) => c.frames);
    await until(() => sockets.reduce((n, c) => n + (c.counts.get("end") ?? 0), 0) === 50, 60_000);
    const log = stored(run.id);
    expect(log.length).toBeGreaterThan(5000);
    const bySub = new Map<string, number[]>();
    for (const f of frames()) {
      if (f.type !== "event") continue;
      const list = bySub.get(f.sub) ?? [];
      list.push(f.cursor);
      bySub.set(f.sub, list);
    }
    for (let i = 0; i < 50; i++) {
      expect(bySub.get(`s${i}`)).toEqual(
        log.filter((e) => e.cursor > afters[i]!).map((e) => e.cursor),
      );
    }
    for (const c of sockets) c.close();
  });

  it("reports errors per request and keeps the socket open", async () => {
    await harness();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    const c = await connect();
    c.send({ type: "subscribe", sub: "x", runId: "01JDA7Q3M8X2ZC4K9T5VQW1HNC" });
    expect(await c.next((f) => f.type === "error" && f.sub === "x")).toMatchObject({
      code: "NOT_FOUND",
    });
    c.send({ type: "ping", nonce: "17" });
    expect(await c.next((f) => f.type === "pong")).toMatchObject({ nonce: "17" });
    c.send({ type: "subscribe", sub: "y", runId: run.id, channels: ["logs"] });
    const bad = await c.next((f) => f.type === "error" && f.sub === "y");
    expect(bad.code).toBe("VALIDATION");
    expect(bad.hint).toBe("Valid channels: lifecycle, phase, output, log, agent.");
    c.send({ type: "subscribe", sub: "z", runId: run.id, extra: 1 });
    expect((await c.next((f) => f.type === "error" && f.sub === "z")).code).toBe("VALIDATION");
    h.engine.addWorkflow({ slug: "idle" });
    const idle = await h.engine.startRun("idle", { triggerKind: "manual" });
    c.send({ type: "subscribe", sub: "d", runId: idle.id });
    await c.next((f) => f.type === "caught_up" && f.sub === "d");
    c.send({ type: "subscribe", sub: "d", runId: idle.id });
    expect((await c.next((f) => f.type === "error" && f.sub === "d")).code).toBe(
      "DUPLICATE_SUBSCRIPTION",
    );
    // "d" plus m0…m30 fill the 32 slots; m31 is the 33rd.
    for (let i = 0; i < 32; i++) c.send({ type: "subscribe", sub: `m${i}`, runId: idle.id });
    expect((await c.next((f) => f.type === "error" && f.sub === "m31")).code).toBe(
      "TOO_MANY_SUBSCRIPTIONS",
    );
    c.send("not json");
    expect((await c.next((f) => f.type === "error" && f.code === "BAD_MESSAGE")).message).toContain(
      "JSON",
    );
    c.send({ type: "unsubscribe", sub: "d" });
    await c.next((f) => f.type === "unsubscribed" && f.sub === "d");
    const seen = c.frames.length;
    h.engine.setStatus(idle.id, "running");
    c.send({ type: "unsubscribe", sub: "never" });
    await c.next((f) => f.type === "unsubscribed" && f.sub === "never", seen);
    expect(c.frames.slice(seen).some((f) => f.sub === "d")).toBe(false);
    c.close();
  });

  it("closes with 1003 on a binary frame and 1009 on a 70 KiB message", async () => {
    await harness();
    const a = await connect();
    a.ws.send(Buffer.from([1, 2, 3]));
    expect(await a.waitClose()).toBe(1003);
    const b = await connect();
    b.send({ type: "ping", nonce: "x".repeat(70 * 1024) });
    expect(await b.waitClose()).toBe(1009);
  });
});

describe("all-runs feed", () => {
  it("snapshots active runs, then streams lifecycle changes in cursor order", async () => {
    await harness();
    h.engine.addWorkflow({ slug: "idle" });
    const idle = await h.engine.startRun("idle", { triggerKind: "manual" });
    const c = await connect();
    c.send({ type: "subscribe_runs", sub: "feed" });
    const snap = await c.next((f) => f.type === "runs_snapshot");
    expect(snap.resync).toBe(false);
    expect(snap.runs.map((r: any) => r.run.id)).toEqual([idle.id]);
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    await h.engine.waitForRun(run.id);
    await until(() => c.frames.some((f) => f.type === "run" && f.run.status === "completed"));
    const frames = c.frames.filter((f) => f.type === "run" && f.runId === run.id);
    expect(frames.map((f) => f.event.status)).toEqual([
      "queued",
      "pending",
      "running",
      "completed",
    ]);
    expect(frames.map((f) => f.run.status)).toEqual(["queued", "pending", "running", "completed"]);
    const cursors = frames.map((f) => f.cursor);
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    c.close();
  });
});

describe("shutdown", () => {
  it("closes every socket with 1001", async () => {
    await harness();
    const c = await connect();
    const closed = c.waitClose();
    await h.server.close({ graceMs: 200 });
    expect(await closed).toBe(1001);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- tests read untyped JSON bodies */
/**
 * `GET /api/runs/:id/trace` over real loopback HTTP against the fake engine: unknown runs, a live
 * run whose trace grows and then closes, child runs joined by `parentRunId`, and a 50,000-event
 * run answered in bounded steps. If these break, the run page's timeline shows a stale, partial or
 * unbounded picture of the run.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TRACE_MAX_SPANS, TRACE_SCAN_BUDGET } from "../src/index.ts";
import { http, startHarness, until } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("GET /api/runs/:id/trace", () => {
  it("answers 404 with the JSON error shape for an unknown or malformed run id", async () => {
    h = await startHarness();
    for (const id of ["01J00000000000000000000000", "nope"]) {
      const r = await http(h, "GET", `/api/runs/${id}/trace`);
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ error: { code: "NOT_FOUND", message: `Unknown run: ${id}` } });
    }
    const wrong = await http(h, "POST", "/api/runs/01J00000000000000000000000/trace");
    expect(wrong.status).toBe(405);
  });

  it("shows a live run with open spans, then the same spans closed once it ends", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    h = await startHarness(
      {},
      {
        behaviors: {
          digest: async (run) => {
            run.phase("gather");
            await gate;
            run.phase("summarise");
            run.agentTurn({
              agentName: "summariser",
              text: ["done"],
              tool: { name: "fetch_page", input: { url: "x" }, summary: "200 OK" },
              usage: { inputTokens: 812, outputTokens: 64 },
            });
            return { ok: true };
          },
        },
      },
    );
    h.engine.addWorkflow({ slug: "digest" });
    const run = await h.engine.startRun("digest", { triggerKind: "manual" });
    await until(() => h.engine.peekEvents(run.id).length >= 4);

    const live = await http(h, "GET", `/api/runs/${run.id}/trace`);
    expect(live.status).toBe(200);
    expect(live.json.runId).toBe(run.id);
    expect(live.json.spans.map((s: any) => [s.kind, s.name, s.status, s.endedAt])).toEqual([
      ["run", "digest", "running", null],
      ["pass", "pass 1", "running", null],
      ["phase", "gather", "running", null],
    ]);
    expect(live.json.coverage).toMatchObject({ complete: true, summarised: null });

    release();
    await h.engine.waitForRun(run.id);
    const done = await http(h, "GET", `/api/runs/${run.id}/trace`);
    const spans = done.json.spans;
    expect(spans.map((s: any) => [s.kind, s.name, s.status])).toEqual([
      ["run", "digest", "ok"],
      ["pass", "pass 1", "ok"],
      ["phase", "gather", "ok"],
      ["phase", "summarise", "ok"],
      ["agent_turn", "agent summariser", "ok"],
      ["tool_call", "fetch_page", "ok"],
    ]);
    for (const span of spans) {
      expect(typeof span.startedAt).toBe("number");
      expect(span.endedAt).toBeGreaterThanOrEqual(span.startedAt);
      expect(Object.keys(span).sort()).toEqual(
        ["attributes", "endedAt", "id", "kind", "name", "parentId", "startedAt", "status"].sort(),
      );
    }
    const byId = new Map(spans.map((s: any) => [s.id, s]));
    const turn = spans.find((s: any) => s.kind === "agent_turn");
    expect((byId.get(turn.parentId) as any).name).toBe("summarise");
    expect(turn.attributes).toMatchObject({ inputTokens: 812, outputTokens: 64 });
    expect(done.json.totals).toMatchObject({ agentTurns: 1, toolCalls: 1, inputTokens: 812 });
    // The row's tallies and the turns' usage agree.
    expect(spans[0].attributes).toMatchObject({ tokensIn: 812, tokensOut: 64 });
  });

  it("joins child runs by parentRunId and links them by id", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "fan-out" });
    h.engine.addWorkflow({ slug: "leaf" });
    const parent = await h.engine.startRun("fan-out", { triggerKind: "manual" });
    h.engine.setStatus(parent.id, "pending");
    h.engine.setStatus(parent.id, "running");
    h.engine.emit(parent.id, { kind: "phase", name: "fan out", id: "p1" });
    const kids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const kid = await h.engine.startRun("leaf", { triggerKind: "manual" });
      h.engine.setStatus(kid.id, "completed", { parentRunId: parent.id });
      kids.push(kid.id);
    }
    const other = await h.engine.startRun("leaf", { triggerKind: "manual" });
    h.engine.setStatus(parent.id, "completed");
    const r = await http(h, "GET", `/api/runs/${parent.id}/trace`);
    const children = r.json.spans.filter((s: any) => s.kind === "child_run");
    expect(children.map((s: any) => s.attributes.childRunId)).toEqual(kids);
    expect(children.map((s: any) => s.attributes.workflow)).toEqual(["leaf", "leaf", "leaf"]);
    const phase = r.json.spans.find((s: any) => s.kind === "phase");
    expect(children.every((s: any) => s.parentId === phase.id)).toBe(true);
    expect(JSON.stringify(r.json)).not.toContain(other.id);
    expect(r.json.totals.childRuns).toBe(3);
  });

  it("answers a 50,000-event run in bounded steps, folding leaf spans into summaries", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "big" });
    const run = await h.engine.startRun("big", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "pending");
    h.engine.setStatus(run.id, "running");
    const turnId = "turn-big";
    h.engine.emit(run.id, { kind: "turn_started", agentId: "agent-1" }, turnId);
    let emitted = 4;
    for (let i = 0; emitted < 49_998; i++) {
      const toolCallId = `c${i}`;
      h.engine.emit(run.id, { kind: "tool_call_start", toolCallId, toolName: "t" }, turnId);
      h.engine.emit(run.id, { kind: "text_delta", blockId: "b", text: "x" }, turnId);
      h.engine.emit(run.id, { kind: "text_delta", blockId: "b", text: "y" }, turnId);
      h.engine.emit(
        run.id,
        { kind: "tool_call_result", toolCallId, result: { humanSummary: "ok" } },
        turnId,
      );
      emitted += 4;
      if (i % 2000 === 0) await pause(0);
    }
    h.engine.emit(run.id, { kind: "turn_ended", agentId: "agent-1", reason: "complete" }, turnId);
    h.engine.setStatus(run.id, "completed");
    const total = h.engine.peekEvents(run.id).length;
    expect(total).toBe(50_002);

    const pages: any[] = [];
    for (;;) {
      const r = await http(h, "GET", `/api/runs/${run.id}/trace`);
      expect(r.status).toBe(200);
      pages.push(r.json);
      expect(r.json.spans.length).toBeLessThanOrEqual(TRACE_MAX_SPANS);
      if (r.json.coverage.complete) break;
      expect(pages.length).toBeLessThan(10);
    }
    // Each request consumes at most the scan budget, continuing where the previous one stopped.
    const steps = Math.ceil(total / TRACE_SCAN_BUDGET);
    expect(pages.map((p) => p.coverage.eventsScanned)).toEqual(
      Array.from({ length: steps }, (_, i) => Math.min(total, (i + 1) * TRACE_SCAN_BUDGET)),
    );
    expect(pages.slice(0, -1).every((p) => !p.coverage.complete)).toBe(true);
    const last = pages.at(-1);
    expect(last.totals.toolCalls).toBe(12_499);
    expect(last.coverage.summarised).toMatchObject({ collapsed: 12_399 });
    const summary = last.spans.find((s: any) => s.kind === "summary");
    expect(summary.attributes["count.tool_call"]).toBe(12_399);
    expect(last.spans.find((s: any) => s.kind === "run").status).toBe("ok");
    // Once complete, a read consumes nothing new and answers the same spans.
    const again = await http(h, "GET", `/api/runs/${run.id}/trace`);
    expect(again.json).toEqual(last);
  });
});

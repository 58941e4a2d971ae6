/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/require-await -- tests read untyped JSON wire frames and bodies */
/**
 * JSON API routes against the fake engine over real loopback HTTP. If these break,
 * Boardwalk-compatible clients see different statuses, shapes or codes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { nextFire, parseSchedule } from "@promenade/scheduler";
import { http, startHarness, until, WsClient } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
const nextCronFire = (expr: string, timezone: string | undefined, afterMs: number) =>
  nextFire(parseSchedule(expr, timezone), afterMs);
afterEach(async () => {
  await h.close();
});

async function withEcho(options = {}): Promise<Harness> {
  h = await startHarness(options, {
    behaviors: {
      echo: async (run) => {
        run.phase("work");
        run.log("hello\n");
        return { echoed: run.input as never };
      },
    },
  });
  h.engine.addWorkflow({ slug: "echo", triggers: [{ kind: "manual" }] });
  return h;
}

describe("workflows", () => {
  it("lists nothing on an empty engine, exactly", async () => {
    h = await startHarness();
    const r = await http(h, "GET", "/api/workflows");
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"workflows":[]}');
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-store");
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("lists workflows by slug with summary fields and no program", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "b-flow", triggers: [{ kind: "cron", expr: "0 * * * *" }] });
    h.engine.addWorkflow({ slug: "a-flow", title: "A", description: "first" });
    const r = await http(h, "GET", "/api/workflows");
    const [a, b] = r.json.workflows;
    expect(a.slug).toBe("a-flow");
    expect(b.slug).toBe("b-flow");
    expect(a).toMatchObject({ name: "a-flow", title: "A", description: "first", lastRun: null });
    expect(b.description).toBeNull();
    expect(b.triggers).toEqual([{ kind: "cron", expr: "0 * * * *" }]);
    expect(Object.keys(a).sort()).toEqual(
      [
        "id",
        "slug",
        "name",
        "title",
        "description",
        "triggers",
        "createdAt",
        "updatedAt",
        "lastRun",
      ].sort(),
    );
    const d = await http(h, "GET", "/api/workflows/a-flow");
    expect(d.json.workflow.manifest.slug).toBe("a-flow");
    expect(d.json.workflow.config).toEqual({});
    expect(d.json.workflow.program).toBeUndefined();
    expect((await http(h, "GET", "/api/workflows/nope")).status).toBe(404);
  });

  it("serves the source on its own route and each cron trigger's next fire in its zone", async () => {
    h = await startHarness({}, { nextCronFire });
    const program = [
      "export const meta = {",
      '  "slug": "nightly",',
      '  "triggers": [',
      '    { "kind": "webhook", "auth": "token" },',
      '    { "kind": "cron", "expr": "30 7 * * *", "timezone": "Asia/Kolkata" },',
      '    { "kind": "cron", "expr": "*/15 * * * *" }',
      "  ]",
      "};",
      "export default async () => 1;",
    ].join("\n");
    await h.engine.deployWorkflow({ program });
    const before = Date.now();
    const d = await http(h, "GET", "/api/workflows/nightly");
    const schedules = d.json.workflow.schedules as {
      trigger: number;
      expr: string;
      timezone: string;
      nextFireAt: number;
    }[];
    expect(schedules.map((c) => [c.trigger, c.expr, c.timezone])).toEqual([
      [1, "30 7 * * *", "Asia/Kolkata"],
      [2, "*/15 * * * *", "UTC"],
    ]);
    // 07:30 in Kolkata (UTC+5:30, no DST) is 02:00 UTC: the next one within a day.
    const daily = new Date(schedules[0]!.nextFireAt);
    expect([daily.getUTCHours(), daily.getUTCMinutes(), daily.getUTCSeconds()]).toEqual([2, 0, 0]);
    expect(schedules[0]!.nextFireAt).toBeGreaterThan(before);
    expect(schedules[0]!.nextFireAt - before).toBeLessThanOrEqual(86_400_000);
    expect(schedules[1]!.nextFireAt % 900_000).toBe(0);
    expect(schedules[1]!.nextFireAt - before).toBeLessThanOrEqual(900_000);
    expect(d.json.workflow.program).toBeUndefined();
    const source = await http(h, "GET", "/api/workflows/nightly/source");
    expect(source.status).toBe(200);
    expect(source.json).toEqual({
      slug: "nightly",
      updatedAt: d.json.workflow.updatedAt,
      source: program,
    });
    expect((await http(h, "GET", "/api/workflows/ghost/source")).status).toBe(404);
    expect((await http(h, "POST", "/api/workflows/nightly/source")).status).toBe(405);
    // An engine without cron evaluation shows the triggers without a next fire.
    await h.close();
    h = await startHarness();
    await h.engine.deployWorkflow({ program });
    const bare = await http(h, "GET", "/api/workflows/nightly");
    expect(bare.json.workflow.schedules.map((c: any) => c.nextFireAt)).toEqual([null, null]);
  });

  it("deploys over the API: 201 then 200 with the same id; bad programs 400; disabled 403", async () => {
    h = await startHarness();
    const program =
      'export const meta = {"slug":"dep","triggers":[{"kind":"manual"}]};\nexport default 1;';
    const first = await http(h, "POST", "/api/workflows", { body: JSON.stringify({ program }) });
    expect(first.status).toBe(201);
    expect(first.json.created).toBe(true);
    const again = await http(h, "POST", "/api/workflows", { body: JSON.stringify({ program }) });
    expect(again.status).toBe(200);
    expect(again.json.created).toBe(false);
    expect(again.json.workflow.id).toBe(first.json.workflow.id);
    expect(again.json.workflow.updatedAt).toBeGreaterThan(first.json.workflow.updatedAt);
    const bad = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({ program: "let meta = x;" }),
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION");
    const skill = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({ program, skills: { "../x": "# no" } }),
    });
    expect(skill.status).toBe(400);
    const npm = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({
        program: 'import x from "left-pad";\nexport const meta = {"slug":"z"};\nexport default x;',
        filename: "index.ts",
      }),
    });
    expect(npm.status).toBe(400);
    expect(npm.json.error.message).toContain("left-pad");
    const ts = await http(h, "POST", "/api/workflows", {
      body: JSON.stringify({
        program: 'export const meta = {"slug":"typed"};\nconst n: number = 1;\nexport default n;',
        filename: "index.ts",
      }),
    });
    expect(ts.status).toBe(201);
    await h.close();
    h = await startHarness({ deployApi: false });
    const off = await http(h, "POST", "/api/workflows", { body: JSON.stringify({ program }) });
    expect(off.status).toBe(403);
    expect(off.json.error.code).toBe("DEPLOY_DISABLED");
  });
});

describe("runs", () => {
  it("starts a run (201, location, queued) and it completes with the output", async () => {
    await withEcho();
    const r = await http(h, "POST", "/api/workflows/echo/runs", { body: '{"input":{"n":7}}' });
    expect(r.status).toBe(201);
    expect(r.json.run).toMatchObject({
      status: "queued",
      triggerKind: "manual",
      input: { n: 7 },
      workflowSlug: "echo",
    });
    expect(r.headers.location).toBe(`/api/runs/${r.json.run.id}`);
    await h.engine.waitForRun(r.json.run.id);
    const got = await http(h, "GET", `/api/runs/${r.json.run.id}`);
    expect(got.json.run.status).toBe("completed");
    expect(got.json.run.output).toEqual({ echoed: { n: 7 } });
    expect(Object.keys(got.json.run)).toEqual([
      "id",
      "workflowId",
      "workflowSlug",
      "status",
      "triggerKind",
      "input",
      "output",
      "error",
      "parentRunId",
      "idempotencyKey",
      "restarts",
      "tokensIn",
      "tokensOut",
      "usdMicros",
      "activeMs",
      "retries",
      "retryAt",
      "createdAt",
      "startedAt",
      "endedAt",
      "version",
      "nodeId",
      "usdEstimated",
    ]);
    expect(got.json.run.usdEstimated).toBe(false);
    const empty = await http(h, "POST", "/api/workflows/echo/runs");
    expect(empty.status).toBe(201);
    expect(empty.json.run.input).toBeNull();
  });

  it("refuses bad starts: unknown slug, bad slug, bad JSON, extra keys, oversized bodies", async () => {
    await withEcho();
    expect((await http(h, "POST", "/api/workflows/ghost/runs")).status).toBe(404);
    const dotted = await http(h, "POST", "/api/workflows/a.b/runs");
    expect(dotted.status).toBe(404);
    expect(dotted.json.error.code).toBe("NOT_FOUND");
    const bad = await http(h, "POST", "/api/workflows/echo/runs", { body: "{nope" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION");
    expect(bad.json.error.message).toContain("run-start body is not valid JSON");
    const extra = await http(h, "POST", "/api/workflows/echo/runs", { body: '{"inputs":{}}' });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toContain("inputs");
    const big = await http(h, "POST", "/api/workflows/echo/runs", { body: "x".repeat(1_048_577) });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    expect(big.json.error.message).toBe("Request body exceeds the 1048576-byte limit.");
    expect(big.headers.connection).toBe("close");
    expect(await h.engine.listRuns({ limit: 100 })).toHaveLength(0);
  });

  it("answers 404 for unknown runs on every run route and 410 for the SSE stream", async () => {
    await withEcho();
    for (const [m, p] of [
      ["GET", "/api/runs/nope"],
      ["GET", "/api/runs/nope/events"],
      ["GET", "/api/runs/nope/artifacts"],
      ["POST", "/api/runs/nope/cancel"],
      ["GET", "/api/runs/01JDA7Q3M8X2ZC4K9T5VQW1HNB/stream"],
    ] as const) {
      const r = await http(h, m, p);
      expect(r.status, p).toBe(404);
      expect(r.json.error.code).toBe("NOT_FOUND");
    }
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    const gone = await http(h, "GET", `/api/runs/${run.id}/stream`);
    expect(gone.status).toBe(410);
    expect(gone.json.error.code).toBe("GONE");
    expect(gone.json.error.hint).toContain("/api/ws");
  });

  it("filters and pages the run list", async () => {
    await withEcho();
    h.engine.addWorkflow({ slug: "other" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await h.engine.startRun("other", { triggerKind: "manual" })).id);
    h.engine.setStatus(ids[0]!, "completed");
    h.engine.setStatus(ids[1]!, "failed", { error: { code: "PROGRAM_ERROR", message: "x" } });
    expect((await http(h, "GET", "/api/runs?workflow=ghost")).status).toBe(404);
    const bogus = await http(h, "GET", "/api/runs?status=bogus");
    expect(bogus.status).toBe(400);
    expect(bogus.json.error.hint).toBe(
      "Valid statuses: queued, pending, running, awaiting_input, waiting_for_child, completed, failed, cancelled, cancelling.",
    );
    const both = await http(h, "GET", "/api/runs?status=completed,failed");
    expect(both.json.runs.map((r: any) => r.status).sort()).toEqual(["completed", "failed"]);
    expect((await http(h, "GET", "/api/runs?limit=0")).json).toEqual({
      runs: [],
      nextCursor: null,
    });
    expect((await http(h, "GET", "/api/runs?limit=abc")).status).toBe(400);
    const all = await http(h, "GET", "/api/runs?workflow=other");
    expect(all.json.runs.map((r: any) => r.id)).toEqual([...ids].reverse());
    const p1 = await http(h, "GET", "/api/runs?limit=2");
    expect(p1.json.runs).toHaveLength(2);
    expect(p1.json.nextCursor).not.toBeNull();
    const p2 = await http(h, "GET", `/api/runs?limit=2&before=${p1.json.nextCursor}`);
    const p3 = await http(h, "GET", `/api/runs?limit=2&before=${p2.json.nextCursor}`);
    expect(p3.json.runs).toHaveLength(1);
    expect(p3.json.nextCursor).toBeNull();
    expect([...p1.json.runs, ...p2.json.runs, ...p3.json.runs].map((r: any) => r.id)).toEqual(
      all.json.runs.map((r: any) => r.id),
    );
    expect((await http(h, "GET", `/api/runs?before=${ids[0]}&offset=1`)).status).toBe(400);
    const unknown = await http(h, "GET", "/api/runs?before=01JDA7Q3M8X2ZC4K9T5VQW1HNB");
    expect(unknown.json.error.message).toBe("Unknown pagination cursor.");
  });

  it("marks a run's cost estimated when part of it was priced at the default rate", async () => {
    h = await startHarness(
      {},
      {
        behaviors: {
          ledger: async (run) => {
            if (run.input === null) return null; // no model call at all
            const { estimated } = run.input as { estimated: boolean };
            run.agentTurn({
              text: ["a"],
              usage: { inputTokens: 10, outputTokens: 2 },
              call: { model: "gpt-4o-mini", usdMicros: 3 },
            });
            run.agentTurn({
              text: ["b"],
              usage: { inputTokens: 10, outputTokens: 2 },
              call: estimated
                ? { model: "local-llm", usdMicros: 60, estimated: true }
                : { model: "gpt-4o-mini", usdMicros: 3 },
            });
            return null;
          },
        },
      },
    );
    h.engine.addWorkflow({ slug: "ledger" });
    const known = await h.engine.startRun("ledger", {
      input: { estimated: false },
      triggerKind: "manual",
    });
    await h.engine.waitForRun(known.id);
    // Marked by the listener while it runs, and read back from the log for runs it never saw.
    const guessed = await h.engine.startRun("ledger", {
      input: { estimated: true },
      triggerKind: "manual",
    });
    await h.engine.waitForRun(guessed.id);
    const idle = await h.engine.startRun("ledger", { triggerKind: "manual" });
    await h.engine.waitForRun(idle.id);
    for (const base of [h, await startHarness({}, {}, () => h.engine)]) {
      const one = await http(base, "GET", `/api/runs/${guessed.id}`);
      expect([one.json.run.usdMicros, one.json.run.usdEstimated]).toEqual([63, true]);
      const list = await http(base, "GET", "/api/runs?workflow=ledger");
      expect(list.json.runs.map((r: any) => [r.id, r.usdMicros, r.usdEstimated])).toEqual([
        [idle.id, 0, false],
        [guessed.id, 63, true],
        [known.id, 6, false],
      ]);
      if (base !== h) await base.close();
    }
  });

  it("shows a run's accounting: retries, active time and when a waiting retry is due", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "flaky" });
    const run = await h.engine.startRun("flaky", { triggerKind: "manual" });
    const fresh = (await http(h, "GET", `/api/runs/${run.id}`)).json.run;
    expect(fresh).toMatchObject({ retries: 0, activeMs: 0, retryAt: null });
    const feed = new WsClient(h, { protocols: ["promenade.events.v1"] });
    await feed.opened();
    feed.send({ type: "subscribe_runs", sub: "feed" });
    await feed.next((f) => f.type === "runs_snapshot");
    // The first attempt failed after 1.2 s; its retry is due in a minute.
    const due = Date.now() + 60_000;
    h.engine.setStatus(run.id, "running");
    h.engine.setStatus(run.id, "pending", { retries: 1, activeMs: 1200, retryAt: due });
    const waiting = { status: "pending", retries: 1, activeMs: 1200, retryAt: due };
    expect((await http(h, "GET", `/api/runs/${run.id}`)).json.run).toMatchObject(waiting);
    const listed = (await http(h, "GET", "/api/runs?workflow=flaky")).json.runs;
    expect(listed).toEqual([expect.objectContaining(waiting)]);
    const frame = await feed.next((f) => f.type === "run" && f.run.status === "pending");
    expect(frame.run).toMatchObject(waiting);
    h.engine.setStatus(run.id, "running", { retryAt: null });
    h.engine.setStatus(run.id, "completed", { activeMs: 1500 });
    expect((await http(h, "GET", `/api/runs/${run.id}`)).json.run).toMatchObject({
      status: "completed",
      retries: 1,
      activeMs: 1500,
      retryAt: null,
    });
    feed.close();
  });

  it("filters the run list by creation time: since inclusive, until exclusive", async () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 0);
    h = await startHarness({}, { now: () => now });
    h.engine.addWorkflow({ slug: "timed" });
    const made: string[] = [];
    for (const day of [1, 2, 3, 4]) {
      now = Date.UTC(2025, 0, day, 12, 0, 0);
      made.push((await h.engine.startRun("timed", { triggerKind: "manual" })).id);
    }
    const list = async (qs: string) =>
      (await http(h, "GET", `/api/runs?${qs}`)).json.runs.map((r: any) => r.id);
    expect(await list(`since=${Date.UTC(2025, 0, 2, 12)}`)).toEqual([made[3], made[2], made[1]]);
    expect(await list(`until=${Date.UTC(2025, 0, 2, 12)}`)).toEqual([made[0]]);
    expect(await list("since=2025-01-02&until=2025-01-04")).toEqual([made[2], made[1]]);
    expect(await list("since=2025-01-02T13:00:00%2B01:00&until=2025-01-03T12:00:00.001Z")).toEqual([
      made[2],
      made[1],
    ]);
    // With the other filters and with paging.
    expect(await list("since=2025-01-02&limit=1")).toEqual([made[3]]);
    const first = await http(h, "GET", "/api/runs?since=2025-01-02&limit=2");
    expect(first.json.nextCursor).toBe(made[2]);
    expect(await list(`since=2025-01-02&limit=2&before=${made[2]}`)).toEqual([made[1]]);
    expect(await list("since=2025-01-02&status=completed")).toEqual([]);
    for (const bad of ["yesterday", "-5", "2025-01-02T10:00", "2025-13-45", "1e3"]) {
      const r = await http(h, "GET", `/api/runs?since=${encodeURIComponent(bad)}`);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("VALIDATION");
      expect(r.json.error.message).toContain('"since"');
    }
  });

  it("clamps the run list at 500", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "many" });
    for (let i = 0; i < 520; i++) await h.engine.startRun("many", { triggerKind: "manual" });
    const r = await http(h, "GET", "/api/runs?limit=10000");
    expect(r.json.runs).toHaveLength(500);
    expect(r.json.nextCursor).not.toBeNull();
  });

  it("cancels: 202 {} and the run ends cancelled; cancelling it again is 409 CONFLICT", async () => {
    h = await startHarness(
      {},
      {
        behaviors: {
          sleepy: async (run) => {
            await run.sleep(60_000);
            return null;
          },
        },
      },
    );
    h.engine.addWorkflow({ slug: "sleepy" });
    const run = await h.engine.startRun("sleepy", { triggerKind: "manual" });
    await until(() => h.engine.peekRun(run.id)?.status === "running");
    const r = await http(h, "POST", `/api/runs/${run.id}/cancel`, { body: "ignored" });
    expect(r.status).toBe(202);
    expect(r.text).toBe("{}");
    expect((await h.engine.waitForRun(run.id)).status).toBe("cancelled");
    const again = await http(h, "POST", `/api/runs/${run.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({
      code: "CONFLICT",
      message: `Run ${run.id} already ended cancelled; only a run that has not ended can be cancelled.`,
    });
    expect((await h.engine.getRun(run.id))?.status).toBe("cancelled");
  });

  it("answers 409 CONFLICT for cancelling a completed run, which stays completed", async () => {
    await withEcho();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    expect((await h.engine.waitForRun(run.id)).status).toBe("completed");
    const r = await http(h, "POST", `/api/runs/${run.id}/cancel`);
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe("CONFLICT");
    expect(r.json.error.message).toContain("already ended completed");
    expect((await h.engine.getRun(run.id))?.status).toBe("completed");
  });
});

describe("events", () => {
  it("selects channels, resumes after a cursor and validates parameters", async () => {
    await withEcho();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    await h.engine.waitForRun(run.id);
    const all = await h.engine.listEvents(run.id, { afterCursor: 0, limit: 1000 });
    const def = await http(h, "GET", `/api/runs/${run.id}/events`);
    const kinds = def.json.events.map((e: any) => e.event.kind);
    expect(kinds).toContain("run_status");
    expect(kinds).toContain("output");
    expect(kinds).not.toContain("program_output");
    expect(def.json.done).toBe(true);
    const verbose = await http(h, "GET", `/api/runs/${run.id}/events?verbose=true`);
    expect(verbose.json.events.map((e: any) => e.cursor)).toEqual(all.map((e) => e.cursor));
    const log = await http(h, "GET", `/api/runs/${run.id}/events?channels=log`);
    expect(log.json.events.map((e: any) => e.event.kind)).toEqual(["program_output"]);
    const rest = await http(
      h,
      "GET",
      `/api/runs/${run.id}/events?verbose=true&after=${all[0]!.cursor}`,
    );
    expect(rest.json.events.map((e: any) => e.cursor)).toEqual(all.slice(1).map((e) => e.cursor));
    const bogus = await http(h, "GET", `/api/runs/${run.id}/events?channels=bogus`);
    expect(bogus.status).toBe(400);
    expect(bogus.json.error.hint).toContain("lifecycle");
    expect((await http(h, "GET", `/api/runs/${run.id}/events?verbose=yes`)).status).toBe(400);
    expect((await http(h, "GET", `/api/runs/${run.id}/events?after=1e3`)).status).toBe(400);
    expect((await http(h, "GET", `/api/runs/${run.id}/events?limit=0`)).status).toBe(400);
  });

  it("pages a 2 600-event log in order without duplicates; done only on the last page", async () => {
    h = await startHarness();
    h.engine.addWorkflow({ slug: "long" });
    const run = await h.engine.startRun("long", { triggerKind: "manual" });
    h.engine.setStatus(run.id, "running");
    for (let i = 0; i < 2600; i++)
      h.engine.emit(run.id, { kind: "phase", name: `p${i}`, id: `p${i}` });
    const running = await http(h, "GET", `/api/runs/${run.id}/events?verbose=true`);
    expect(running.json.events).toHaveLength(1000);
    expect(running.json.done).toBe(false);
    h.engine.setStatus(run.id, "completed");
    const seen: number[] = [];
    let after = 0;
    let pages = 0;
    for (;;) {
      const r = await http(h, "GET", `/api/runs/${run.id}/events?verbose=true&after=${after}`);
      pages++;
      seen.push(...r.json.events.map((e: any) => e.cursor));
      if (r.json.nextCursor === null) {
        expect(r.json.done).toBe(true);
        break;
      }
      expect(r.json.done).toBe(false);
      after = r.json.nextCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(
      (await h.engine.listEvents(run.id, { afterCursor: 0, limit: 10_000 })).map((e) => e.cursor),
    );
  });
});

describe("artifacts", () => {
  it("lists the latest write per name and serves exact bytes with safe headers", async () => {
    await withEcho();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    h.engine.writeArtifact(run.id, "report.md", "text/markdown", "# one");
    h.engine.writeArtifact(run.id, "report.md", "text/markdown", "# second write");
    const list = await http(h, "GET", `/api/runs/${run.id}/artifacts`);
    expect(list.json.artifacts).toHaveLength(1);
    const a = list.json.artifacts[0];
    expect(a).toMatchObject({ name: "report.md", contentType: "text/markdown", size: 14 });
    expect(a.path).toBeUndefined();
    expect(list.text).not.toContain(h.engine.dataDir);
    const file = await http(h, "GET", a.url);
    expect(file.status).toBe(200);
    expect(file.text).toBe("# second write");
    expect(file.headers["content-type"]).toBe("text/markdown");
    expect(file.headers["content-disposition"]).toMatch(/^attachment; filename="report.md"/);
    expect(file.headers["content-security-policy"]).toContain("sandbox");
    expect(file.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("refuses path traversal in artifact names and rows pointing outside the run", async () => {
    await withEcho();
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    h.engine.writeArtifact(run.id, "ok.txt", "text/plain", "fine");
    h.engine.addArtifactRow({
      runId: run.id,
      name: "escape.txt",
      contentType: "text/plain",
      path: `${h.engine.dataDir}/secret.txt`,
      size: 3,
      metadata: null,
    });
    for (const name of [
      "..%2Fpromenade.db",
      "..",
      "a%2Fb",
      "a%5Cb",
      "%00",
      "unknown",
      "escape.txt",
      "..%2F..%2Fetc%2Fpasswd",
    ]) {
      const r = await http(h, "GET", `/api/runs/${run.id}/artifacts/${name}`);
      expect(r.status, name).toBe(404);
    }
    expect((await http(h, "GET", `/api/runs/${run.id}/artifacts/ok.txt`)).text).toBe("fine");
  });
});

describe("routing, health, metrics", () => {
  it("answers 405 with allow, 404 JSON for unknown routes, 400 for bad encoding", async () => {
    await withEcho();
    const del = await http(h, "DELETE", "/api/workflows");
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe("GET, POST");
    expect(del.json.error.code).toBe("METHOD_NOT_ALLOWED");
    expect((await http(h, "GET", "/api/workflows/x/runs")).headers.allow).toBe("POST");
    expect((await http(h, "GET", "/hooks/a/0")).headers.allow).toBe("POST");
    expect((await http(h, "OPTIONS", "/api/runs")).status).toBe(405);
    const nope = await http(h, "GET", "/api/nope");
    expect(nope.status).toBe(404);
    expect(nope.json.error.message).toBe("No such route: /api/nope");
    expect((await http(h, "GET", "/api/runs/%E0%A4%A")).json.error.code).toBe("VALIDATION");
    expect((await http(h, "GET", "/api/runs/")).status).toBe(200);
  });

  it("serves /healthz and Prometheus metrics with run counters", async () => {
    await withEcho();
    expect((await http(h, "GET", "/healthz")).json).toEqual({ status: "ok" });
    const run = await h.engine.startRun("echo", { triggerKind: "manual" });
    await h.engine.waitForRun(run.id);
    const m = await http(h, "GET", "/metrics");
    expect(m.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toContain("promenade_build_info");
    expect(m.text).toContain("promenade_http_requests_total");
    expect(m.text).toContain('promenade_runs_finished_total{workflow="echo",status="completed"} 1');
    h.engine.setHealthy(false);
    const sick = await http(h, "GET", "/healthz");
    expect(sick.status).toBe(503);
    expect(sick.json).toEqual({ status: "unavailable", reason: "database" });
  });
});

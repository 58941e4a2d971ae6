/**
 * Human input on the PostgreSQL engine, through the promise-returning twins, with real run
 * processes: the acceptance rules the SQLite suite (human-input.integration.test.ts) checks with
 * the synchronous methods — output printed once around a gate, the three answer forms, derived
 * keys and a crash-restarted pass, an engine restart and an answer given before `start()`, a
 * budget kill, `serial` concurrency, timeouts (including one that expired while the engine was
 * down) and the agent's `human_input` tool. If this breaks, a gate on PostgreSQL loses answers,
 * asks twice or never ends.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { createManualClock } from "@promenade/workflow/testing";
import { localInference } from "./helpers.ts";
import {
  deployAsync,
  kindsAsync,
  pendingKeyAsync,
  pgEngines,
  rejection,
  statusesAsync,
  until,
  type PgEngines,
} from "./pg-engine.ts";

const NAMES = ["humanInput", "output", "agent", "sleep"];
const SHIP = `output(await humanInput({ key: "ship", prompt: "Ship it?", input: { kind: "choice", options: ["Ship", "Hold"] } }));`;

let pg: PgEngines;
beforeEach(async () => {
  pg = await pgEngines();
});
afterEach(async () => {
  await pg.cleanup();
});

describe("humanInput() on PostgreSQL", () => {
  it("prints console output around a gate exactly once", async () => {
    const engine = await pg.open();
    await deployAsync(
      engine,
      "chatty",
      [
        'console.log("before");',
        'const answer = await humanInput({ prompt: "Review?", input: { kind: "text" } });',
        'console.log("after");',
        "output(answer);",
      ].join("\n"),
      NAMES,
    );
    const { id } = await engine.createRun("chatty");
    await pendingKeyAsync(engine, id, "input-1");
    await engine.respondToInputAsync(id, "input-1", { value: "lgtm" });
    expect((await engine.waitForRun(id)).output).toEqual({ value: "lgtm" });
    const printed = (await engine.storeAsync.listEvents(id, { channels: ["log"] }))
      .map((row) => (row.event.kind === "program_output" ? row.event.text : ""))
      .join("");
    expect(printed).toBe("before\nafter\n");
  });

  it("checks text, multiselect and allowOther answers and passes accepted ones unchanged", async () => {
    const engine = await pg.open();
    await deployAsync(
      engine,
      "forms",
      [
        'const text = await humanInput({ key: "t", prompt: "?", input: { kind: "text", required: true } });',
        'const many = await humanInput({ key: "m", prompt: "?", input: { kind: "multiselect", options: ["a", "b", "c"], min: 1, max: 2 } });',
        'const strict = await humanInput({ key: "s", prompt: "?", input: { kind: "multiselect", options: ["a"], allowOther: false } });',
        'const one = await humanInput({ key: "c", prompt: "?", input: { kind: "choice", options: ["a"], allowOther: false } });',
        "output({ text, many, strict, one });",
      ].join("\n"),
      NAMES,
    );
    const { id } = await engine.createRun("forms");
    const answer = (key: string, value: unknown) => engine.respondToInputAsync(id, key, value);
    await pendingKeyAsync(engine, id, "t");
    expect((await rejection(answer("t", { value: "" }))).message).toContain(
      "a response is required",
    );
    await answer("t", { value: "lgtm" });
    await pendingKeyAsync(engine, id, "m");
    for (const [value, message] of [
      [{ values: [] }, "select at least 1"],
      [{ values: ["a", "b", "c"] }, "select at most 2"],
      [{ values: ["x"] }, '"x" is not one of the offered options'],
      [{ value: "a" }, "a multiselect response must be"],
    ] as const) {
      const error = await rejection(answer("m", value));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain(message);
    }
    expect((await engine.storeAsync.getRun(id))?.status).toBe("awaiting_input");
    await answer("m", { values: ["a"], other: "z" });
    await pendingKeyAsync(engine, id, "s");
    expect((await rejection(answer("s", { values: ["a"], other: "z" }))).message).toContain(
      "a free-text answer is not allowed for this gate",
    );
    await answer("s", { values: ["a"] });
    await pendingKeyAsync(engine, id, "c");
    expect((await rejection(answer("c", { value: "b" }))).message).toContain(
      "a free-text answer is not allowed for this gate",
    );
    await answer("c", { value: "a" });
    expect((await engine.waitForRun(id)).output).toEqual({
      text: { value: "lgtm" },
      many: { values: ["a"], other: "z" },
      strict: { values: ["a"] },
      one: { value: "a", isOther: false },
    });
  });

  it("keys unnamed gates input-1, input-2 and gives a crash-restarted pass the stored answer", async () => {
    const engine = await pg.open();
    await deployAsync(
      engine,
      "twice",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const first = await humanInput({ prompt: "First?", input: { kind: "text" } });',
        'if (!existsSync("crashed")) { writeFileSync("crashed", "1"); process.exit(3); }',
        'const second = await humanInput({ prompt: "Second?", input: { kind: "text" } });',
        "output([first.value, second.value]);",
      ].join("\n"),
      NAMES,
    );
    const { id } = await engine.createRun("twice");
    await pendingKeyAsync(engine, id, "input-1");
    await engine.respondToInputAsync(id, "input-1", { value: "one" });
    await pendingKeyAsync(engine, id, "input-2");
    await engine.respondToInputAsync(id, "input-2", { value: "two" });
    const row = await engine.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: ["one", "two"], restarts: 1 });
    expect(await engine.listInputRequestsAsync({ runId: id })).toHaveLength(2);
    const requested = (await kindsAsync(engine, id)).filter((k) => k === "human_input_requested");
    expect(requested).toHaveLength(2);
  });

  it("resumes a waiting run after an engine restart, and takes an answer given before start()", async () => {
    const a = await pg.open();
    await deployAsync(a, "approve", SHIP, NAMES);
    const { id } = await a.createRun("approve");
    await pendingKeyAsync(a, id, "ship");
    await a.closeGracefully({ childGraceMs: 200 });
    const b = await pg.open();
    expect((await b.startAsync()).resumed).toContain(id);
    await until("the resumed pass waits again", async () => {
      const seen = await statusesAsync(b, id);
      return seen.filter((status) => status === "awaiting_input").length >= 2;
    });
    expect(await b.listInputRequestsAsync({ runId: id })).toHaveLength(1);
    const requested = (await kindsAsync(b, id)).filter((k) => k === "human_input_requested");
    expect(requested).toHaveLength(1);
    await b.respondToInputAsync(id, "ship", { value: "Ship" });
    expect((await b.waitForRun(id)).status).toBe("completed");

    const { id: later } = await b.createRun("approve");
    await pendingKeyAsync(b, later, "ship");
    await b.closeGracefully({ childGraceMs: 200 });
    const c = await pg.open();
    // Answered on a reopened engine before its sweep: stored, and the run completes at start().
    expect(await c.respondToInputAsync(later, "ship", { value: "Hold" })).toMatchObject({
      status: "resolved",
    });
    await c.startAsync();
    const row = await c.waitForRun(later);
    expect(row).toMatchObject({ status: "completed", output: { value: "Hold", isOther: false } });
    expect((await statusesAsync(c, later)).slice(-3)).toEqual(["pending", "running", "completed"]);
    const again = (await kindsAsync(c, later)).filter((k) => k === "human_input_requested");
    expect(again).toHaveLength(1);
  });

  it("leaves the request of a budget-killed waiting run cancelled", async () => {
    // The budget runs on the engine's clock, moved only once the run waits.
    const clock = createManualClock();
    const engine = await pg.open({ clock });
    await deployAsync(engine, "slow", SHIP, NAMES, { budget: { max_duration_seconds: 4 } });
    const { id } = await engine.createRun("slow");
    await pendingKeyAsync(engine, id, "ship");
    clock.advance(5_000);
    const row = await engine.waitForRun(id);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect((await engine.listInputRequestsAsync({ runId: id }))[0]?.status).toBe("cancelled");
  });

  it("counts a held run as active for a serial workflow", async () => {
    const engine = await pg.open();
    await deployAsync(engine, "serial", SHIP, NAMES, { concurrency: { mode: "serial" } });
    await engine.startAsync();
    const first = await engine.createRun("serial");
    const second = await engine.createRun("serial");
    await pendingKeyAsync(engine, first.id, "ship");
    await engine.tickAsync();
    expect((await engine.storeAsync.getRun(second.id))?.status).toBe("queued");
    await engine.respondToInputAsync(first.id, "ship", { value: "Ship" });
    await engine.waitForRun(first.id);
    await pendingKeyAsync(engine, second.id, "ship");
    await engine.respondToInputAsync(second.id, "ship", { value: "Hold" });
    expect((await engine.waitForRun(second.id)).status).toBe("completed");
  });

  it("honours timeouts: a default answer, a failure naming the key, and an expiry that passed while the engine was down", async () => {
    const a = await pg.open();
    await deployAsync(
      a,
      "fallback",
      `output(await humanInput({ key: "go", prompt: "Go?", input: { kind: "choice", options: ["yes", "no"] }, timeout: "500ms", onTimeout: { value: { value: "no", isOther: false } } }));`,
      NAMES,
    );
    await deployAsync(
      a,
      "strict",
      `await humanInput({ key: "sign-off", prompt: "Sign?", input: { kind: "text" }, timeout: "500ms" });`,
      NAMES,
    );
    await deployAsync(
      a,
      "offline",
      `await humanInput({ key: "k", prompt: "?", input: { kind: "text" }, timeout: "1s" });`,
      NAMES,
    );
    const fallback = await a.waitForRun((await a.createRun("fallback")).id);
    expect(fallback).toMatchObject({
      status: "completed",
      output: { value: "no", isOther: false },
    });
    expect((await a.listInputRequestsAsync({ runId: fallback.id }))[0]).toMatchObject({
      status: "expired",
      response: { value: "no", isOther: false },
    });
    const strict = await a.waitForRun((await a.createRun("strict")).id);
    expect(strict.status).toBe("failed");
    expect(strict.error?.code).toBe("BUDGET_EXCEEDED");
    expect(strict.error?.message).toContain("timeout");
    expect(strict.error?.message).toContain("sign-off");

    const { id } = await a.createRun("offline");
    await pendingKeyAsync(a, id, "k");
    const [request] = await a.listInputRequestsAsync({ runId: id });
    const expiresAt = request?.expiresAt ?? 0;
    await a.closeGracefully({ childGraceMs: 200 });
    await until("the gate's expiry passes", () => Promise.resolve(Date.now() > expiresAt));
    const b = await pg.open();
    await b.startAsync();
    const row = await b.waitForRun(id);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect((await b.listInputRequestsAsync({ runId: id }))[0]?.status).toBe("expired");
    const late = await rejection(b.respondToInputAsync(id, "k", { value: "late" }));
    expect(late.code).toBe("NOT_FOUND");
  });
});

describe("the agent's human_input tool on PostgreSQL", () => {
  let provider: FakeProvider;
  beforeEach(async () => {
    provider = await startFakeOpenAiProvider();
  });
  afterEach(async () => {
    await provider.close();
  });

  it("parks after one model request on key c-7, rejects z, and continues with x", async () => {
    provider.enqueue(
      openAiToolCalls([
        {
          id: "c-7",
          name: "human_input",
          arguments: {
            prompt: "x or y?",
            input: { kind: "choice", options: ["x", "y"], allowOther: false },
          },
        },
      ]),
      openAiText("went with x"),
    );
    const engine = await pg.open({ inference: localInference(provider.baseUrl) });
    await deployAsync(
      engine,
      "asker",
      'output(await agent("decide", { humanInput: true }));',
      NAMES,
    );
    const { id } = await engine.createRun("asker");
    await pendingKeyAsync(engine, id, "c-7");
    expect(provider.requests).toHaveLength(1);
    expect(JSON.stringify(provider.requests[0]?.body)).toContain('"human_input"');
    const bad = await rejection(engine.respondToInputAsync(id, "c-7", { value: "z" }));
    expect(bad.code).toBe("VALIDATION");
    expect((await engine.storeAsync.getRun(id))?.status).toBe("awaiting_input");
    await engine.respondToInputAsync(id, "c-7", { value: "x" });
    const row = await engine.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: "went with x" });
    expect(provider.requests).toHaveLength(2);
    expect(JSON.stringify(provider.requests[1]?.body)).toContain('\\"value\\":\\"x\\"');
  });
});

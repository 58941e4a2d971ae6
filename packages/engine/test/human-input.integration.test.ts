/**
 * Human input through the embedded engine: `humanInput()` gates held by real run processes and
 * answered with `engine.respondToInput` — synchronous on SQLite (a rejected answer throws), the
 * promise twins on PostgreSQL. Each test is one acceptance rule of the feature: hold and answer,
 * validation, first answer wins, output printed once, the three answer forms, keys and crash
 * restarts, engine restarts, cancel and budget kill, serial concurrency, timeouts, and the agent's
 * `human_input` tool against a fake provider at HTTP level.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { createTestDatabase, type TestDatabase } from "@promenade/store/testing";
import { createManualClock } from "@promenade/workflow/testing";
import { Engine } from "../src/index.ts";
import type { EngineOptions, RunRow } from "../src/index.ts";
import {
  cursorsIncrease,
  kinds,
  localInference,
  makeEngine,
  manualMeta,
  program,
  SOURCE_CHILD_ENTRY,
  sourceProcessEnv,
  statuses,
  tempDir,
  waitForStatus,
} from "./helpers.ts";

const NAMES = ["humanInput", "output", "agent", "sleep"];
const SHIP = `output(await humanInput({ key: "ship", prompt: "Ship it?", input: { kind: "choice", options: ["Ship", "Hold"] } }));`;

let dir: ReturnType<typeof tempDir>;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function open(overrides: Partial<EngineOptions> = {}): Engine {
  const { engine } = makeEngine(dir.path, overrides);
  engines.push(engine);
  return engine;
}

function deploy(
  engine: Engine,
  slug: string,
  body: string,
  extra: Record<string, unknown> = {},
): void {
  engine.deployWorkflow({ program: program(manualMeta(slug, extra), body, { names: NAMES }) });
}

function errorOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("expected a throw");
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the run's pending request is `key` and the run is held on it. */
async function pendingKey(engine: Engine, runId: string, key: string): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const pending = engine.listInputRequests({ runId, statuses: ["pending"] });
    if (pending[0]?.key === key && engine.store.getRun(runId)?.status === "awaiting_input") return;
    if (Date.now() > end) throw new Error(`run ${runId} never waited on "${key}"`);
    await delay(10);
  }
}

function printed(engine: Engine, runId: string): string {
  return engine.store
    .listEvents(runId, { channels: ["log"] })
    .map((row) => (row.event.kind === "program_output" ? row.event.text : ""))
    .join("");
}

describe("humanInput() on the SQLite engine", () => {
  it("holds the run awaiting_input until answered and completes with exactly the answer", async () => {
    const engine = open();
    deploy(engine, "approve", SHIP);
    const { id } = engine.startRun("approve");
    await waitForStatus(engine, id, "awaiting_input");
    await delay(300);
    expect(engine.store.getRun(id)?.status).toBe("awaiting_input");
    const pending = engine.listInputRequests({ runId: id, statuses: ["pending"] });
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ runId: id, key: "ship", prompt: "Ship it?", seq: 1 });
    const resolved = engine.respondToInput(id, "ship", { value: "Ship", isOther: false });
    expect(resolved).toMatchObject({
      status: "resolved",
      response: { value: "Ship", isOther: false },
    });
    const row = await engine.waitForRun(id);
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ value: "Ship", isOther: false });
    expect(statuses(engine, id)).toContain("awaiting_input");
    const lifecycle = kinds(engine, id).filter((kind) => kind !== "program_output");
    expect(lifecycle).toContain("human_input_requested");
    expect(lifecycle).toContain("human_input_resolved");
    expect(cursorsIncrease(engine, id)).toBe(true);
    expect(engine.listInputRequests({ statuses: ["pending"] })).toEqual([]);
  });

  it("throws VALIDATION synchronously for a bad answer and keeps the run parked", async () => {
    const engine = open();
    deploy(engine, "approve", SHIP);
    const { id } = engine.startRun("approve");
    await waitForStatus(engine, id, "awaiting_input");
    const bad = errorOf(() =>
      engine.respondToInput(id, "ship", { value: "Later", isOther: false }),
    );
    expect(bad.code).toBe("VALIDATION");
    expect(bad.message).toContain("not one of the offered options");
    expect(engine.store.getRun(id)?.status).toBe("awaiting_input");
    engine.respondToInput(id, "ship", { value: "Hold" });
    expect((await engine.waitForRun(id)).output).toEqual({ value: "Hold", isOther: false });
    const second = errorOf(() => engine.respondToInput(id, "ship", { value: "Ship" }));
    expect(second.code).toBe("NOT_FOUND");
    expect(second.message).toContain("No pending human-input request");
  });

  it("prints console output around a gate exactly once", async () => {
    const engine = open();
    deploy(
      engine,
      "chatty",
      [
        'console.log("before");',
        'const answer = await humanInput({ prompt: "Review?", input: { kind: "text" } });',
        'console.log("after");',
        "output(answer);",
      ].join("\n"),
    );
    const { id } = engine.startRun("chatty");
    await waitForStatus(engine, id, "awaiting_input");
    engine.respondToInput(id, "input-1", { value: "lgtm" });
    const row = await engine.waitForRun(id);
    expect(row.output).toEqual({ value: "lgtm" });
    expect(printed(engine, id)).toBe("before\nafter\n");
  });

  it("checks text, multiselect and allowOther answers and passes accepted ones unchanged", async () => {
    const engine = open();
    deploy(
      engine,
      "forms",
      [
        'const text = await humanInput({ key: "t", prompt: "?", input: { kind: "text", required: true } });',
        'const many = await humanInput({ key: "m", prompt: "?", input: { kind: "multiselect", options: ["a", "b", "c"], min: 1, max: 2 } });',
        'const strict = await humanInput({ key: "s", prompt: "?", input: { kind: "multiselect", options: ["a"], allowOther: false } });',
        'const one = await humanInput({ key: "c", prompt: "?", input: { kind: "choice", options: ["a"], allowOther: false } });',
        "output({ text, many, strict, one });",
      ].join("\n"),
    );
    const { id } = engine.startRun("forms");
    await pendingKey(engine, id, "t");
    expect(errorOf(() => engine.respondToInput(id, "t", { value: "" })).message).toContain(
      "a response is required",
    );
    engine.respondToInput(id, "t", { value: "lgtm" });
    await pendingKey(engine, id, "m");
    engine.respondToInput(id, "m", { values: ["a"], other: "z" });
    await pendingKey(engine, id, "s");
    engine.respondToInput(id, "s", { values: ["a"] });
    await pendingKey(engine, id, "c");
    expect(errorOf(() => engine.respondToInput(id, "c", { value: "b" })).message).toContain(
      "a free-text answer is not allowed for this gate",
    );
    engine.respondToInput(id, "c", { value: "a" });
    const row = await engine.waitForRun(id);
    expect(row.output).toEqual({
      text: { value: "lgtm" },
      many: { values: ["a"], other: "z" },
      strict: { values: ["a"] },
      one: { value: "a", isOther: false },
    });
  });

  it("rejects min/max and unknown options and free text where it is not allowed", async () => {
    const engine = open();
    deploy(
      engine,
      "picky",
      [
        'const many = await humanInput({ key: "m", prompt: "?", input: { kind: "multiselect", options: ["a", "b", "c"], min: 1, max: 2 } });',
        'const strict = await humanInput({ key: "s", prompt: "?", input: { kind: "multiselect", options: ["a"], allowOther: false } });',
        "output({ many, strict });",
      ].join("\n"),
    );
    const { id } = engine.startRun("picky");
    await waitForStatus(engine, id, "awaiting_input");
    for (const [value, message] of [
      [{ values: [] }, "select at least 1"],
      [{ values: ["a", "b", "c"] }, "select at most 2"],
      [{ values: ["x"] }, '"x" is not one of the offered options'],
      [{ value: "a" }, "a multiselect response must be"],
    ] as const) {
      const error = errorOf(() => engine.respondToInput(id, "m", value));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain(message);
    }
    engine.respondToInput(id, "m", { values: ["b", "c"] });
    await pendingKey(engine, id, "s");
    expect(
      errorOf(() => engine.respondToInput(id, "s", { values: ["a"], other: "z" })).message,
    ).toContain("a free-text answer is not allowed for this gate");
    engine.respondToInput(id, "s", { values: [] });
    expect((await engine.waitForRun(id)).output).toEqual({
      many: { values: ["b", "c"] },
      strict: { values: [] },
    });
  });

  it("keys unnamed gates input-1, input-2 and gives a crash-restarted pass the stored answer", async () => {
    const engine = open();
    deploy(
      engine,
      "twice",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const first = await humanInput({ prompt: "First?", input: { kind: "text" } });',
        'if (!existsSync("crashed")) { writeFileSync("crashed", "1"); process.exit(3); }',
        'const second = await humanInput({ prompt: "Second?", input: { kind: "text" } });',
        "output([first.value, second.value]);",
      ].join("\n"),
    );
    const { id } = engine.startRun("twice");
    await waitForStatus(engine, id, "awaiting_input");
    expect(engine.listInputRequests({ runId: id }).map((r) => r.key)).toEqual(["input-1"]);
    engine.respondToInput(id, "input-1", { value: "one" });
    await pendingKey(engine, id, "input-2");
    engine.respondToInput(id, "input-2", { value: "two" });
    const row = await engine.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: ["one", "two"], restarts: 1 });
    expect(engine.listInputRequests({ runId: id })).toHaveLength(2);
    expect(kinds(engine, id).filter((kind) => kind === "human_input_requested")).toHaveLength(2);
  });

  it("resumes a waiting run after an engine restart, and takes an answer given before start()", async () => {
    const a = open();
    deploy(a, "approve", SHIP);
    const { id } = a.startRun("approve");
    await waitForStatus(a, id, "awaiting_input");
    a.close();
    const b = open();
    expect(b.start().resumed).toContain(id);
    while (statuses(b, id).filter((status) => status === "awaiting_input").length < 2) {
      await delay(10);
    }
    expect(b.listInputRequests({ runId: id })).toHaveLength(1);
    expect(kinds(b, id).filter((kind) => kind === "human_input_requested")).toHaveLength(1);
    b.respondToInput(id, "ship", { value: "Ship" });
    expect((await b.waitForRun(id)).status).toBe("completed");

    const { id: later } = b.startRun("approve");
    await waitForStatus(b, later, "awaiting_input");
    b.close();
    const c = open();
    // Answered on a reopened engine before its sweep: stored, and the run completes at start().
    expect(c.respondToInput(later, "ship", { value: "Hold" })).toMatchObject({
      status: "resolved",
    });
    c.start();
    const row = await c.waitForRun(later);
    expect(row).toMatchObject({ status: "completed", output: { value: "Hold", isOther: false } });
    expect(statuses(c, later).slice(-3)).toEqual(["pending", "running", "completed"]);
    expect(kinds(c, later).filter((kind) => kind === "human_input_requested")).toHaveLength(1);
  });

  it("cancels a waiting run: cancelling, cancelled, its request cancelled, a later answer NOT_FOUND", async () => {
    const engine = open();
    deploy(engine, "approve", SHIP);
    const { id } = engine.startRun("approve");
    await waitForStatus(engine, id, "awaiting_input");
    await engine.cancelRun(id);
    expect(statuses(engine, id).slice(-2)).toEqual(["cancelling", "cancelled"]);
    expect(engine.listInputRequests({ runId: id })[0]?.status).toBe("cancelled");
    expect(errorOf(() => engine.respondToInput(id, "ship", { value: "Ship" })).code).toBe(
      "NOT_FOUND",
    );
  });

  it("leaves the request of a budget-killed waiting run cancelled", async () => {
    // The budget runs on the engine's clock, moved only once the run waits: however slowly the
    // run process starts, it reaches the gate before its 4 s are spent.
    const clock = createManualClock();
    const engine = open({ clock });
    deploy(engine, "slow", SHIP, { budget: { max_duration_seconds: 4 } });
    const { id } = engine.startRun("slow");
    await waitForStatus(engine, id, "awaiting_input");
    clock.advance(5_000);
    const row = await engine.waitForRun(id);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(engine.listInputRequests({ runId: id })[0]?.status).toBe("cancelled");
  });

  it("counts a held run as active for a serial workflow", async () => {
    const engine = open();
    deploy(engine, "serial", SHIP, { concurrency: { mode: "serial" } });
    engine.start();
    const first = engine.startRun("serial");
    const second = engine.startRun("serial");
    await waitForStatus(engine, first.id, "awaiting_input");
    await delay(500);
    engine.tick();
    expect(engine.store.getRun(second.id)?.status).toBe("queued");
    engine.respondToInput(first.id, "ship", { value: "Ship" });
    await engine.waitForRun(first.id);
    await waitForStatus(engine, second.id, "awaiting_input");
    engine.respondToInput(second.id, "ship", { value: "Hold" });
    expect((await engine.waitForRun(second.id)).status).toBe("completed");
  });

  it("honours timeouts: a default answer, a failure naming the key, and an expiry that passed while the engine was down", async () => {
    const a = open();
    deploy(
      a,
      "fallback",
      `output(await humanInput({ key: "go", prompt: "Go?", input: { kind: "choice", options: ["yes", "no"] }, timeout: "500ms", onTimeout: { value: { value: "no", isOther: false } } }));`,
    );
    deploy(
      a,
      "strict",
      `await humanInput({ key: "sign-off", prompt: "Sign?", input: { kind: "text" }, timeout: "500ms" });`,
    );
    deploy(
      a,
      "offline",
      `await humanInput({ key: "k", prompt: "?", input: { kind: "text" }, timeout: "1s" });`,
    );
    const fallback = await a.waitForRun(a.startRun("fallback").id);
    expect(fallback).toMatchObject({
      status: "completed",
      output: { value: "no", isOther: false },
    });
    expect(a.listInputRequests({ runId: fallback.id })[0]).toMatchObject({
      status: "expired",
      response: { value: "no", isOther: false },
    });
    const strict = await a.waitForRun(a.startRun("strict").id);
    expect(strict.status).toBe("failed");
    expect(strict.error?.code).toBe("BUDGET_EXCEEDED");
    expect(strict.error?.message).toContain("timeout");
    expect(strict.error?.message).toContain("sign-off");

    const { id } = a.startRun("offline");
    await waitForStatus(a, id, "awaiting_input");
    a.close();
    await delay(1200);
    const b = open();
    b.start();
    const row = await b.waitForRun(id);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(b.listInputRequests({ runId: id })[0]?.status).toBe("expired");
    expect(errorOf(() => b.respondToInput(id, "k", { value: "late" })).code).toBe("NOT_FOUND");
  });

  it("validates arguments: unknown run, bad options, and the async twin rejects the same errors", async () => {
    const engine = open();
    expect(errorOf(() => engine.respondToInput("01NOPE", "k", {})).message).toContain(
      "Unknown run",
    );
    expect(errorOf(() => engine.listInputRequests({ statuses: ["open" as "pending"] })).code).toBe(
      "VALIDATION",
    );
    expect(
      errorOf(() =>
        engine.respondToInput("01NOPE", "k", {}, { respondedBy: 3 as unknown as string }),
      ).code,
    ).toBe("VALIDATION");
    await expect(engine.respondToInputAsync("01NOPE", "k", {})).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(engine.listInputRequestsAsync()).resolves.toEqual([]);
  });
});

describe("the agent's human_input tool in a run", () => {
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
    const engine = open({ inference: localInference(provider.baseUrl) });
    deploy(engine, "asker", 'output(await agent("decide", { humanInput: true }));');
    const { id } = engine.startRun("asker");
    await waitForStatus(engine, id, "awaiting_input");
    expect(provider.requests).toHaveLength(1);
    expect(JSON.stringify(provider.requests[0]?.body)).toContain('"human_input"');
    expect(engine.listInputRequests({ runId: id, statuses: ["pending"] })[0]?.key).toBe("c-7");
    expect(errorOf(() => engine.respondToInput(id, "c-7", { value: "z" })).code).toBe("VALIDATION");
    expect(engine.store.getRun(id)?.status).toBe("awaiting_input");
    engine.respondToInput(id, "c-7", { value: "x" });
    const row = await engine.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: "went with x" });
    expect(provider.requests).toHaveLength(2);
    expect(JSON.stringify(provider.requests[1]?.body)).toContain('\\"value\\":\\"x\\"');
  });

  it("is not offered without the option", async () => {
    provider.enqueue(openAiText("plain"));
    const engine = open({ inference: localInference(provider.baseUrl) });
    deploy(engine, "plain", 'output(await agent("hi"));');
    const row: RunRow = await engine.waitForRun(engine.startRun("plain").id);
    expect(row.output).toBe("plain");
    expect(JSON.stringify(provider.requests[0]?.body)).not.toContain("human_input");
  });
});

describe("humanInput() on the PostgreSQL engine", () => {
  let database: TestDatabase;
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of databases.splice(0)) await db.drop();
  });

  async function openPg(): Promise<Engine> {
    database = await createTestDatabase();
    databases.push(database);
    const engine = await Engine.open({
      dataDir: dir.path,
      databaseUrl: database.url,
      cancelGraceMs: 250,
      childEntryPath: SOURCE_CHILD_ENTRY,
      processEnv: sourceProcessEnv(),
      log: () => undefined,
    });
    engines.push(engine);
    return engine;
  }

  async function statusOf(engine: Engine, id: string): Promise<string | undefined> {
    return (await engine.storeAsync.getRun(id))?.status;
  }

  async function until(check: () => Promise<boolean>): Promise<void> {
    const end = Date.now() + 20_000;
    while (!(await check())) {
      if (Date.now() > end) throw new Error("condition not met in time");
      await delay(20);
    }
  }

  it("holds, refuses a bad answer, takes the first answer and reports a second as NOT_FOUND", async () => {
    const engine = await openPg();
    await engine.deploy({
      program: program(manualMeta("approve"), SHIP, { names: NAMES }),
    });
    const { id } = await engine.createRun("approve");
    await until(async () => (await statusOf(engine, id)) === "awaiting_input");
    expect(() => engine.respondToInput(id, "ship", {})).toThrow(/respondToInputAsync/);
    await expect(
      engine.respondToInputAsync(id, "ship", { value: "Later", isOther: false }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    expect(await statusOf(engine, id)).toBe("awaiting_input");
    const answers = await Promise.allSettled([
      engine.respondToInputAsync(id, "ship", { value: "Ship" }),
      engine.respondToInputAsync(id, "ship", { value: "Hold" }),
    ]);
    expect(answers.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    const row = await engine.waitForRun(id);
    expect(row.status).toBe("completed");
    const [request] = await engine.listInputRequestsAsync({ runId: id });
    expect(request?.status).toBe("resolved");
    expect(row.output).toEqual(request?.response);
    await expect(engine.respondToInputAsync(id, "ship", { value: "Ship" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringContaining("No pending human-input request"),
    });
    const events = await engine.storeAsync.listEvents(id, { channels: ["lifecycle"] });
    expect(events.map((e) => e.event.kind)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "human_input_requested",
      "run_status",
      "human_input_resolved",
      "run_status",
      "run_status",
    ]);
  });

  it("cancels a waiting run and closes its request", async () => {
    const engine = await openPg();
    await engine.deploy({ program: program(manualMeta("approve"), SHIP, { names: NAMES }) });
    const { id } = await engine.createRun("approve");
    await until(async () => (await statusOf(engine, id)) === "awaiting_input");
    await engine.cancelRun(id);
    expect(await statusOf(engine, id)).toBe("cancelled");
    expect((await engine.listInputRequestsAsync({ runId: id }))[0]?.status).toBe("cancelled");
  });
});

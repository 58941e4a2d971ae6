// Human-input gates end to end: real run processes holding on `humanInput()`, answered through
// the supervisor, over the real SQLite store (synchronous: answers throw or return at once) and
// over the asynchronous in-memory store. What would break without these: a program asked twice
// after a restart, a bad or second answer reaching the program, a held run that cannot be
// cancelled, or a timeout that never fires.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "@promenade/store";
import type { Store } from "@promenade/store";
import { RunSupervisor } from "../src/index.ts";
import { createManualClock } from "@promenade/workflow/testing";
import type { SupervisorOptions } from "../src/index.ts";
import {
  childEntryPath,
  createHarness,
  manifestOf,
  programOf,
  sourceLaunch,
  until,
} from "./harness.ts";
import type { Harness } from "./harness.ts";

interface SqliteHarness {
  store: Store;
  supervisor: RunSupervisor;
  logs: string[];
  deploy(meta: Record<string, unknown>, body: string): void;
  create(slug: string): string;
  status(runId: string): string | undefined;
  statuses(runId: string): string[];
  kinds(runId: string): string[];
  /** Closes this supervisor (its run processes are stopped) and starts a fresh one. */
  restart(): Promise<RunSupervisor>;
  close(): Promise<void>;
}

function sqliteHarness(options: Partial<SupervisorOptions> = {}): SqliteHarness {
  const dataDir = mkdtempSync(join(tmpdir(), "promenade-human-input-"));
  const store = openStore({ path: join(dataDir, "promenade.db") });
  const logs: string[] = [];
  const make = (): RunSupervisor =>
    new RunSupervisor({
      store,
      dataDir,
      childEntryPath,
      launch: sourceLaunch,
      env: new Map(),
      processEnv: {},
      envLabel: "test",
      priceUsage: () => 0,
      log: (line) => logs.push(line),
      cancelGraceMs: 250,
      ...options,
    });
  const h: SqliteHarness = {
    store,
    supervisor: make(),
    logs,
    deploy(meta, body) {
      const slug = String(meta.slug);
      store.upsertWorkflow({ slug, manifest: manifestOf(meta), program: programOf(meta, body) });
    },
    create(slug) {
      const workflow = store.getWorkflow(slug);
      if (workflow === null) throw new Error(`not deployed: ${slug}`);
      return store.createRun({ workflowId: workflow.id, triggerKind: "manual" }).run.id;
    },
    status: (runId) => store.getRun(runId)?.status,
    statuses: (runId) =>
      store
        .listEvents(runId)
        .flatMap((row) => (row.event.kind === "run_status" ? [row.event.status] : [])),
    kinds: (runId) => store.listEvents(runId).map((row) => row.event.kind),
    async restart() {
      await h.supervisor.shutdown(1000);
      h.supervisor = make();
      return h.supervisor;
    },
    async close() {
      await h.supervisor.shutdown(1000);
      store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
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

const shipGate = `const answer = await humanInput({ key: "ship", prompt: "Ship it?", input: { kind: "choice", options: ["Ship", "Hold"] } });
output(answer);`;

let s: SqliteHarness | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await s?.close();
  await h?.close();
  s = undefined;
  h = undefined;
});

describe("a held run over the SQLite store", () => {
  it("holds awaiting_input until answered, then completes with exactly the answer", async () => {
    s = sqliteHarness();
    s.deploy({ slug: "approve" }, shipGate);
    const id = s.create("approve");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    await delay(300);
    expect(s.status(id)).toBe("awaiting_input");
    const [request] = s.store.listInputRequests({ runId: id });
    expect(s.store.listInputRequests({ runId: id })).toHaveLength(1);
    expect(request).toMatchObject({
      key: "ship",
      prompt: "Ship it?",
      status: "pending",
      inputSpec: { kind: "choice", options: ["Ship", "Hold"] },
      assignees: null,
      expiresAt: null,
    });
    const resolved = s.supervisor.respondToInput(id, "ship", { value: "Ship", isOther: false });
    // Synchronous over a synchronous store: the row comes back, not a promise.
    expect(resolved).toMatchObject({
      id: request?.id,
      status: "resolved",
      response: { value: "Ship", isOther: false },
      respondedBy: null,
    });
    const row = await done;
    expect(row).toMatchObject({ status: "completed", output: { value: "Ship", isOther: false } });
    expect(s.statuses(id)).toEqual([
      "queued",
      "pending",
      "running",
      "awaiting_input",
      "running",
      "completed",
    ]);
    const kinds = s.kinds(id).filter((kind) => kind !== "program_output");
    expect(kinds).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "human_input_requested",
      "run_status",
      "human_input_resolved",
      "run_status",
      "output",
      "run_status",
    ]);
    const cursors = s.store.listEvents(id).map((e) => e.cursor);
    expect([...cursors].sort((a, b) => a - b)).toEqual(cursors);
    // The answer value never travels in an event.
    expect(JSON.stringify(s.store.listEvents(id, { channels: ["lifecycle"] }))).not.toContain(
      "isOther",
    );
  });

  it("refuses a bad answer with VALIDATION, keeps the run parked, and a second answer is NOT_FOUND", async () => {
    s = sqliteHarness();
    s.deploy({ slug: "approve" }, shipGate);
    const id = s.create("approve");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    const bad = errorOf(() =>
      s?.supervisor.respondToInput(id, "ship", { value: "Later", isOther: false }),
    );
    expect(bad.code).toBe("VALIDATION");
    expect(bad.message).toContain("not one of the offered options");
    for (const wrong of ["Ship", { values: ["Ship"] }, null]) {
      expect(errorOf(() => s?.supervisor.respondToInput(id, "ship", wrong)).message).toContain(
        "a choice response must be",
      );
    }
    expect(s.status(id)).toBe("awaiting_input");
    expect(s.store.getInputRequest(id, "ship")?.status).toBe("pending");
    const unknownRun = errorOf(() => s?.supervisor.respondToInput("01NOPE", "ship", {}));
    expect(unknownRun).toMatchObject({ code: "NOT_FOUND" });
    expect(unknownRun.message).toContain("Unknown run");
    const unknownKey = errorOf(() => s?.supervisor.respondToInput(id, "nope", { value: "Hold" }));
    expect(unknownKey.code).toBe("NOT_FOUND");
    expect(unknownKey.message).toContain('No pending human-input request "nope"');

    await s.supervisor.respondToInput(id, "ship", { value: "Hold" }, { respondedBy: "user:ada" });
    const second = errorOf(() => s?.supervisor.respondToInput(id, "ship", { value: "Ship" }));
    expect(second.code).toBe("NOT_FOUND");
    expect(second.message).toContain("No pending human-input request");
    expect(second.message).toContain("ship");
    const row = await done;
    expect(row.output).toEqual({ value: "Hold", isOther: false });
    expect(s.store.getInputRequest(id, "ship")).toMatchObject({
      status: "resolved",
      respondedBy: "user:ada",
      response: { value: "Hold", isOther: false },
    });
  });

  it("prints console output around a gate exactly once and round-trips text and multiselect answers", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "forms" },
      [
        'console.log("before");',
        'const text = await humanInput({ prompt: "Review?", input: { kind: "text", required: true } });',
        'console.log("after");',
        'const picks = await humanInput({ key: "picks", prompt: "Pick", input: { kind: "multiselect", options: ["a", "b", "c"], min: 1, max: 2 } });',
        "output({ text, picks });",
      ].join("\n"),
    );
    const id = s.create("forms");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    expect(
      errorOf(() => s?.supervisor.respondToInput(id, "input-1", { value: "" })).message,
    ).toContain("a response is required");
    await s.supervisor.respondToInput(id, "input-1", { value: "lgtm" });
    await until(() => s?.store.getInputRequest(id, "picks")?.status === "pending");
    await until(() => s?.status(id) === "awaiting_input");
    for (const [answer, message] of [
      [{ values: [] }, "select at least 1"],
      [{ values: ["a", "b", "c"] }, "select at most 2"],
      [{ values: ["q"] }, '"q" is not one of the offered options'],
    ] as const) {
      expect(errorOf(() => s?.supervisor.respondToInput(id, "picks", answer)).message).toContain(
        message,
      );
    }
    await s.supervisor.respondToInput(id, "picks", { values: ["a"], other: "z" });
    const row = await done;
    expect(row.output).toEqual({ text: { value: "lgtm" }, picks: { values: ["a"], other: "z" } });
    const printed = s.store
      .listEvents(id, { channels: ["log"] })
      .map((e) => (e.event.kind === "program_output" ? e.event.text : ""))
      .join("");
    expect(printed).toBe("before\nafter\n");
    expect(s.statuses(id)).toEqual([
      "queued",
      "pending",
      "running",
      "awaiting_input",
      "running",
      "awaiting_input",
      "running",
      "completed",
    ]);
  });

  it("derives input-1, input-2 and gives a crash-restarted pass the stored answer without asking again", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "twice" },
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const first = await humanInput({ prompt: "First?", input: { kind: "text" } });',
        'if (!existsSync("crashed")) { writeFileSync("crashed", "1"); process.exit(3); }',
        'const second = await humanInput({ prompt: "Second?", input: { kind: "text" } });',
        "output([first.value, second.value]);",
      ].join("\n"),
    );
    const id = s.create("twice");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    await s.supervisor.respondToInput(id, "input-1", { value: "one" });
    await until(() => s?.store.getInputRequest(id, "input-2") !== null);
    await until(() => s?.status(id) === "awaiting_input");
    expect(s.store.getRun(id)?.restarts).toBe(1);
    await s.supervisor.respondToInput(id, "input-2", { value: "two" });
    const row = await done;
    expect(row).toMatchObject({ status: "completed", output: ["one", "two"], restarts: 1 });
    const requests = s.store.listInputRequests({ runId: id });
    expect(requests.map((r) => [r.key, r.seq, r.status])).toEqual([
      ["input-2", 2, "resolved"],
      ["input-1", 1, "resolved"],
    ]);
    const asked = s.store
      .listEvents(id)
      .flatMap((e) => (e.event.kind === "human_input_requested" ? [e.event.key] : []));
    expect(asked).toEqual(["input-1", "input-2"]);
    expect(s.statuses(id)).toEqual([
      "queued",
      "pending",
      "running",
      "awaiting_input",
      "running",
      "pending",
      "running",
      "awaiting_input",
      "running",
      "completed",
    ]);
  });

  it("re-attaches after an engine restart and takes an answer given before the sweep", async () => {
    s = sqliteHarness();
    s.deploy({ slug: "approve" }, shipGate);
    const id = s.create("approve");
    void s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    let next = await s.restart();
    expect(s.status(id)).toBe("awaiting_input");
    const sweep = next.recoverOnBoot();
    expect(sweep).toMatchObject({ resumed: [id] });
    await until(() => s?.statuses(id).filter((x) => x === "awaiting_input").length === 2);
    expect(s.store.listInputRequests({ runId: id })).toHaveLength(1);
    await next.respondToInput(id, "ship", { value: "Ship" });
    expect((await next.supervise(id)).output).toEqual({ value: "Ship", isOther: false });
    expect(s.kinds(id).filter((kind) => kind === "human_input_requested")).toHaveLength(1);

    // Answered while no process waits: stored, then the next pass finds it at once.
    const later = s.create("approve");
    void next.supervise(later);
    await until(() => s?.status(later) === "awaiting_input");
    next = await s.restart();
    const stored = next.respondToInput(later, "ship", { value: "Hold" });
    expect(stored).toMatchObject({ status: "resolved" });
    expect(s.kinds(later).at(-1)).toBe("human_input_resolved");
    await next.recoverOnBoot();
    const row = await next.supervise(later);
    expect(row).toMatchObject({ status: "completed", output: { value: "Hold", isOther: false } });
    const statuses = s.statuses(later);
    expect(statuses.slice(-3)).toEqual(["pending", "running", "completed"]);
    expect(s.kinds(later).filter((kind) => kind === "human_input_requested")).toHaveLength(1);
  });

  it("cancels a waiting run, closing its request; a later answer is NOT_FOUND", async () => {
    s = sqliteHarness();
    s.deploy({ slug: "approve" }, shipGate);
    const id = s.create("approve");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    await s.supervisor.cancel(id);
    expect((await done).status).toBe("cancelled");
    expect(s.statuses(id).slice(-3)).toEqual(["awaiting_input", "cancelling", "cancelled"]);
    expect(s.store.getInputRequest(id, "ship")).toMatchObject({ status: "cancelled" });
    expect(s.store.getInputRequest(id, "ship")?.respondedAt).not.toBeNull();
    const late = errorOf(() => s?.supervisor.respondToInput(id, "ship", { value: "Ship" }));
    expect(late.code).toBe("NOT_FOUND");
  });

  it("closes the request of a waiting run that a budget kills", async () => {
    // The budget runs on the supervisor's clock, moved only once the run waits: however slowly the
    // run process starts, it reaches the gate before its 4 s are spent.
    const clock = createManualClock();
    s = sqliteHarness({ clock });
    s.deploy({ slug: "slow", budget: { max_duration_seconds: 4 } }, shipGate);
    const id = s.create("slow");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    clock.advance(5_000);
    const row = await done;
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(s.statuses(id)).toContain("awaiting_input");
    expect(s.store.getInputRequest(id, "ship")?.status).toBe("cancelled");
  });

  it("delivers a timeout's default answer, durably", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "timed" },
      `output(await humanInput({ key: "go", prompt: "Go?", input: { kind: "choice", options: ["yes", "no"] }, timeout: "500ms", onTimeout: { value: { value: "no", isOther: false } } }));`,
    );
    const id = s.create("timed");
    const started = Date.now();
    const row = await s.supervisor.supervise(id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(row).toMatchObject({ status: "completed", output: { value: "no", isOther: false } });
    const request = s.store.getInputRequest(id, "go");
    expect(request).toMatchObject({
      status: "expired",
      response: { value: "no", isOther: false },
    });
    expect(request?.expiresAt).toBe((request?.createdAt ?? 0) + 500);
    expect(errorOf(() => s?.supervisor.respondToInput(id, "go", { value: "yes" })).code).toBe(
      "NOT_FOUND",
    );
  });

  it("fails the run BUDGET_EXCEEDED naming the key when a gate times out, also across a restart", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "deadline" },
      `await humanInput({ key: "sign-off", prompt: "Sign?", input: { kind: "text" }, timeout: "300ms" });`,
    );
    const id = s.create("deadline");
    const row = await s.supervisor.supervise(id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toContain("timeout");
    expect(row.error?.message).toContain("sign-off");
    expect(s.store.getInputRequest(id, "sign-off")?.status).toBe("expired");

    // Expired while the engine was down: the restarted pass expires it as soon as it re-attaches.
    s.deploy(
      { slug: "down" },
      `await humanInput({ key: "k", prompt: "?", input: { kind: "text" }, timeout: "1s" });`,
    );
    const later = s.create("down");
    void s.supervisor.supervise(later);
    await until(() => s?.status(later) === "awaiting_input");
    const next = await s.restart();
    await delay(1200);
    await next.recoverOnBoot();
    const failed = await next.supervise(later);
    expect(failed.error).toMatchObject({ code: "BUDGET_EXCEEDED" });
    expect(failed.error?.message).toContain('"k"');
    expect(s.store.getInputRequest(later, "k")?.status).toBe("expired");
  });

  it("shares one request between two calls waiting on the same key", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "shared" },
      [
        'const ask = () => humanInput({ key: "same", prompt: "?", input: { kind: "text" } });',
        "const [a, b] = await Promise.all([ask(), ask()]);",
        "output([a, b]);",
      ].join("\n"),
    );
    const id = s.create("shared");
    const done = s.supervisor.supervise(id);
    await until(() => s?.status(id) === "awaiting_input");
    expect(s.store.listInputRequests({ runId: id })).toHaveLength(1);
    await s.supervisor.respondToInput(id, "same", { value: "x" });
    expect((await done).output).toEqual([{ value: "x" }, { value: "x" }]);
  });

  it("rejects a malformed gate in the program with VALIDATION and opens nothing", async () => {
    s = sqliteHarness();
    s.deploy(
      { slug: "bad" },
      [
        "const problems = [];",
        'for (const opts of [{ prompt: "?", input: { kind: "date" } }, { prompt: "?", input: { kind: "choice", options: [] } }, { prompt: "?", input: { kind: "text" }, timeout: "soon" }, { key: "", prompt: "?", input: { kind: "text" } }, { prompt: "?", input: { kind: "choice", options: ["a"], allowOther: false }, onTimeout: { value: { value: "b" } } }]) {',
        "  try { await humanInput(opts); } catch (e) { problems.push(e.code + ': ' + e.message); }",
        "}",
        "output(problems);",
      ].join("\n"),
    );
    const id = s.create("bad");
    const row = await s.supervisor.supervise(id);
    expect(row.status).toBe("completed");
    const problems = row.output as string[];
    expect(problems).toHaveLength(5);
    expect(problems.every((p) => p.startsWith("VALIDATION: "))).toBe(true);
    expect(problems[2]).toContain("timeout");
    expect(s.store.listInputRequests({ runId: id })).toEqual([]);
    expect(s.statuses(id)).not.toContain("awaiting_input");
  });
});

describe("a held run over an asynchronous store", () => {
  it("lets exactly one of two racing answers win", async () => {
    h = createHarness();
    h.deploy({ slug: "approve" }, shipGate);
    const id = await h.create("approve");
    const done = h.supervisor.supervise(id);
    await until(() => h?.store.peek.run(id)?.status === "awaiting_input");
    const answers = await Promise.allSettled([
      h.supervisor.respondToInput(id, "ship", { value: "Ship" }),
      h.supervisor.respondToInput(id, "ship", { value: "Hold" }),
    ]);
    const won = answers.filter((a) => a.status === "fulfilled");
    const lost = answers.filter((a) => a.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(["CONFLICT", "NOT_FOUND"]).toContain((lost[0]?.reason as { code: string }).code);
    const row = await done;
    const stored = h.store.peek.inputRequests(id);
    expect(stored).toHaveLength(1);
    expect(row.output).toEqual(stored[0]?.response);
    expect(
      h.store.peek.events(id).filter((e) => e.event.kind === "human_input_resolved"),
    ).toHaveLength(1);
  });

  it("cancels while waiting: cancelling, cancelled, and the row is cancelled", async () => {
    h = createHarness();
    h.deploy({ slug: "approve" }, shipGate);
    const id = await h.create("approve");
    const done = h.supervisor.supervise(id);
    await until(() => h?.store.peek.run(id)?.status === "awaiting_input");
    await h.supervisor.cancel(id);
    expect((await done).status).toBe("cancelled");
    expect(h.statuses(id).slice(-3)).toEqual(["awaiting_input", "cancelling", "cancelled"]);
    expect(h.store.peek.inputRequests(id)[0]?.status).toBe("cancelled");
    await expect(
      Promise.resolve().then(() => h?.supervisor.respondToInput(id, "ship", { value: "Ship" })),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

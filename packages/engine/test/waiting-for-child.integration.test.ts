/**
 * The `waiting_for_child` status through the embedded engine with real run processes on SQLite:
 * a parent inside `workflows.call` is held `waiting_for_child` from the moment its child is found
 * or created until the child ends, then `running` again; `awaiting_input` wins over it; the held
 * parent counts as active for `serial`, can be cancelled, and is swept at boot like a running run;
 * `workflows.run` never changes the parent's status. Children that must stay alive for a check
 * wait on a human-input gate the test answers, so no check races a timer.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, EngineOptions, RunRow } from "../src/index.ts";
import { makeEngine, manualMeta, program, statuses, tempDir, waitForStatus } from "./helpers.ts";

const NAMES = ["humanInput", "input", "output", "sleep", "workflows"];
/** A child that waits for a person to answer `go`, then outputs the answer's value. */
const GATED_CHILD = `const answer = await humanInput({ key: "go", prompt: "Go?", input: { kind: "text" } });\noutput({ child: answer.value });`;

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

/** The only child run of `parentId`, once it exists. */
async function childOf(engine: Engine, parentId: string): Promise<RunRow> {
  const end = Date.now() + 20_000;
  for (;;) {
    const children = engine.store.listRuns({ parentRunId: parentId });
    if (children[0] !== undefined) return children[0];
    if (Date.now() > end) throw new Error(`run ${parentId} never created a child`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The `t` of every `run_status` event of a run with `status`. */
function statusTimes(engine: Engine, runId: string, status: string): number[] {
  return engine.store
    .listEvents(runId)
    .flatMap((row) =>
      row.event.kind === "run_status" && row.event.status === status ? [row.event.t] : [],
    );
}

describe("workflows.call holds the parent waiting_for_child", () => {
  it("shows waiting_for_child while a sleeping child runs, then completes with its output", async () => {
    const engine = open();
    deploy(engine, "napper", "await sleep(1000);\noutput({ slept: true, n: input.n });", {
      input_schema: { type: "object" },
    });
    deploy(engine, "parent", 'output(await workflows.call("napper", { n: 7 }));');
    const { id } = engine.startRun("parent");
    const child = await childOf(engine, id);
    const row = await engine.waitForRun(id);
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ slept: true, n: 7 });
    expect(row.restarts).toBe(0);
    expect(statuses(engine, id)).toEqual([
      "queued",
      "pending",
      "running",
      "waiting_for_child",
      "running",
      "completed",
    ]);
    const children = engine.store.listRuns({ parentRunId: id });
    expect(children.map((run) => run.id)).toEqual([child.id]);
    // The parent waited exactly while the child was not terminal.
    const [held] = statusTimes(engine, id, "waiting_for_child");
    const [childDone] = statusTimes(engine, child.id, "completed");
    const [resumed] = statusTimes(engine, id, "running").slice(-1);
    expect(held).toBeLessThanOrEqual(childDone!);
    expect(resumed).toBeGreaterThanOrEqual(childDone!);
    const kinds = engine.store.listEvents(id).map((event) => event.event.kind as string);
    expect(kinds).not.toContain("suspended");
    expect(kinds).not.toContain("resumed");
  });

  it("stays waiting_for_child until the child ends, however long that takes", async () => {
    const engine = open();
    deploy(engine, "gated", GATED_CHILD);
    deploy(engine, "parent", 'output(await workflows.call("gated"));');
    const { id } = engine.startRun("parent");
    const child = await childOf(engine, id);
    await waitForStatus(engine, child.id, "awaiting_input");
    await waitForStatus(engine, id, "waiting_for_child");
    engine.respondToInput(child.id, "go", { value: "now" });
    const row = await engine.waitForRun(id);
    expect(row.output).toEqual({ child: "now" });
    expect(statuses(engine, id).filter((status) => status === "waiting_for_child")).toHaveLength(1);
  });

  it("awaiting_input wins over waiting_for_child while both wait", async () => {
    const engine = open();
    deploy(engine, "gated", GATED_CHILD);
    deploy(
      engine,
      "both",
      [
        "const [fromChild, mine] = await Promise.all([",
        '  workflows.call("gated"),',
        '  humanInput({ key: "mine", prompt: "Mine?", input: { kind: "text" } }),',
        "]);",
        "output({ fromChild, mine: mine.value });",
      ].join("\n"),
    );
    const { id } = engine.startRun("both");
    const child = await childOf(engine, id);
    await waitForStatus(engine, child.id, "awaiting_input");
    await waitForStatus(engine, id, "awaiting_input");
    // The parent's own gate answered: only the child wait is left.
    engine.respondToInput(id, "mine", { value: "yes" });
    await waitForStatus(engine, id, "waiting_for_child");
    engine.respondToInput(child.id, "go", { value: "done" });
    const row = await engine.waitForRun(id);
    expect(row.output).toEqual({ fromChild: { child: "done" }, mine: "yes" });
    const seen = statuses(engine, id);
    expect(seen.slice(-3)).toEqual(["waiting_for_child", "running", "completed"]);
    // One event per change: no status repeats back to back.
    expect(seen.every((status, index) => index === 0 || status !== seen[index - 1])).toBe(true);
  });

  it("workflows.run never changes the parent's status", async () => {
    const engine = open();
    deploy(engine, "gated", GATED_CHILD);
    deploy(engine, "spawner", 'output(await workflows.run("gated"));');
    const { id } = engine.startRun("spawner");
    const row = await engine.waitForRun(id);
    expect(statuses(engine, id)).toEqual(["queued", "pending", "running", "completed"]);
    const childId = row.output as string;
    await waitForStatus(engine, childId, "awaiting_input");
    engine.respondToInput(childId, "go", { value: "later" });
    expect((await engine.waitForRun(childId)).status).toBe("completed");
  });

  it("counts a parent waiting_for_child as active for a serial workflow", async () => {
    const engine = open();
    deploy(engine, "gated", GATED_CHILD);
    deploy(engine, "serial", 'output(await workflows.call("gated", { from: input }));', {
      concurrency: { mode: "serial" },
    });
    engine.start();
    const first = engine.startRun("serial", { input: 1 });
    const second = engine.startRun("serial", { input: 2 });
    const child = await childOf(engine, first.id);
    await waitForStatus(engine, first.id, "waiting_for_child");
    engine.tick();
    expect(engine.store.getRun(second.id)?.status).toBe("queued");
    await waitForStatus(engine, child.id, "awaiting_input");
    engine.respondToInput(child.id, "go", { value: "one" });
    expect((await engine.waitForRun(first.id)).output).toEqual({ child: "one" });
    const secondChild = await childOf(engine, second.id);
    await waitForStatus(engine, secondChild.id, "awaiting_input");
    engine.respondToInput(secondChild.id, "go", { value: "two" });
    expect((await engine.waitForRun(second.id)).output).toEqual({ child: "two" });
  });

  it("cancels a parent waiting_for_child: cancelling, then cancelled", async () => {
    const engine = open();
    deploy(engine, "gated", GATED_CHILD);
    deploy(engine, "parent", 'output(await workflows.call("gated"));');
    const { id } = engine.startRun("parent");
    await waitForStatus(engine, id, "waiting_for_child");
    await engine.cancelRun(id);
    expect((await engine.waitForRun(id)).status).toBe("cancelled");
    expect(statuses(engine, id).slice(-3)).toEqual([
      "waiting_for_child",
      "cancelling",
      "cancelled",
    ]);
  });

  it("a parent left waiting_for_child by a closed engine is resumed at start() and re-attaches to its child", async () => {
    const a = open();
    deploy(a, "gated", GATED_CHILD);
    deploy(a, "parent", 'output(await workflows.call("gated"));');
    const { id } = a.startRun("parent");
    const child = await childOf(a, id);
    await waitForStatus(a, child.id, "awaiting_input");
    await waitForStatus(a, id, "waiting_for_child");
    await a.closeGracefully({ childGraceMs: 200 });
    const b = open();
    expect(b.store.getRun(id)?.status).toBe("waiting_for_child");
    const boot = b.start();
    expect(boot.resumed).toContain(id);
    await waitForStatus(b, child.id, "awaiting_input");
    await waitForStatus(b, id, "waiting_for_child");
    b.respondToInput(child.id, "go", { value: "again" });
    const row = await b.waitForRun(id);
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ child: "again" });
    expect(row.restarts).toBe(0);
    expect(b.store.listRuns({ parentRunId: id })).toHaveLength(1);
  });
});

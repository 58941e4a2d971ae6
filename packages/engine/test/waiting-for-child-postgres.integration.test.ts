/**
 * The `waiting_for_child` status on the PostgreSQL engine, through the promise-returning twins,
 * with real run processes — the rules the SQLite suite (waiting-for-child.integration.test.ts)
 * checks: a parent inside `workflows.call` is held `waiting_for_child` until its child ends, then
 * `running` again; `awaiting_input` wins over it; `workflows.run` never changes the parent's
 * status; the held parent counts as active for `serial`, can be cancelled, and is resumed at boot,
 * re-attaching to its child. Children that must stay alive wait on a gate the test answers, so no
 * check races a timer. If this breaks, parents on PostgreSQL show wrong statuses, run twice or
 * never end.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, RunRow } from "../src/index.ts";
import {
  deployAsync,
  pendingKeyAsync,
  pgEngines,
  statusesAsync,
  statusIs,
  until,
  type PgEngines,
} from "./pg-engine.ts";

const NAMES = ["humanInput", "input", "output", "sleep", "workflows"];
/** A child that waits for a person to answer `go`, then outputs the answer's value. */
const GATED_CHILD = `const answer = await humanInput({ key: "go", prompt: "Go?", input: { kind: "text" } });\noutput({ child: answer.value });`;

let pg: PgEngines;
beforeEach(async () => {
  pg = await pgEngines();
});
afterEach(async () => {
  await pg.cleanup();
});

/** The only child run of `parentId`, once it exists. */
async function childOf(engine: Engine, parentId: string): Promise<RunRow> {
  let child: RunRow | undefined;
  await until(`run ${parentId} has a child`, async () => {
    [child] = await engine.storeAsync.listRuns({ parentRunId: parentId });
    return child !== undefined;
  });
  return child!;
}

describe("workflows.call holds the parent waiting_for_child on PostgreSQL", () => {
  it("shows waiting_for_child while a sleeping child runs, then completes with its output", async () => {
    const engine = await pg.open();
    await deployAsync(
      engine,
      "napper",
      "await sleep(1000);\noutput({ slept: true, n: input.n });",
      NAMES,
      {
        input_schema: { type: "object" },
      },
    );
    await deployAsync(engine, "parent", 'output(await workflows.call("napper", { n: 7 }));', NAMES);
    const { id } = await engine.createRun("parent");
    const child = await childOf(engine, id);
    const row = await engine.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: { slept: true, n: 7 }, restarts: 0 });
    expect(await statusesAsync(engine, id)).toEqual([
      "queued",
      "pending",
      "running",
      "waiting_for_child",
      "running",
      "completed",
    ]);
    const children = await engine.storeAsync.listRuns({ parentRunId: id });
    expect(children.map((run) => run.id)).toEqual([child.id]);
    const kinds = (await engine.storeAsync.listEvents(id)).map((row) => row.event.kind as string);
    expect(kinds).not.toContain("suspended");
    expect(kinds).not.toContain("resumed");
  });

  it("awaiting_input wins over waiting_for_child while both wait", async () => {
    const engine = await pg.open();
    await deployAsync(engine, "gated", GATED_CHILD, NAMES);
    await deployAsync(
      engine,
      "both",
      [
        "const [fromChild, mine] = await Promise.all([",
        '  workflows.call("gated"),',
        '  humanInput({ key: "mine", prompt: "Mine?", input: { kind: "text" } }),',
        "]);",
        "output({ fromChild, mine: mine.value });",
      ].join("\n"),
      NAMES,
    );
    const { id } = await engine.createRun("both");
    const child = await childOf(engine, id);
    await pendingKeyAsync(engine, child.id, "go");
    await pendingKeyAsync(engine, id, "mine");
    // The parent's own gate answered: only the child wait is left.
    await engine.respondToInputAsync(id, "mine", { value: "yes" });
    await statusIs(engine, id, "waiting_for_child");
    await engine.respondToInputAsync(child.id, "go", { value: "done" });
    const row = await engine.waitForRun(id);
    expect(row.output).toEqual({ fromChild: { child: "done" }, mine: "yes" });
    const seen = await statusesAsync(engine, id);
    expect(seen.slice(-3)).toEqual(["waiting_for_child", "running", "completed"]);
    expect(seen.every((status, index) => index === 0 || status !== seen[index - 1])).toBe(true);
  });

  it("workflows.run never changes the parent's status", async () => {
    const engine = await pg.open();
    await deployAsync(engine, "gated", GATED_CHILD, NAMES);
    await deployAsync(engine, "spawner", 'output(await workflows.run("gated"));', NAMES);
    const { id } = await engine.createRun("spawner");
    const row = await engine.waitForRun(id);
    expect(await statusesAsync(engine, id)).toEqual(["queued", "pending", "running", "completed"]);
    const childId = row.output as string;
    await pendingKeyAsync(engine, childId, "go");
    await engine.respondToInputAsync(childId, "go", { value: "later" });
    expect((await engine.waitForRun(childId)).status).toBe("completed");
  });

  it("counts a parent waiting_for_child as active for a serial workflow", async () => {
    const engine = await pg.open();
    await deployAsync(engine, "gated", GATED_CHILD, NAMES);
    await deployAsync(
      engine,
      "serial",
      'output(await workflows.call("gated", { from: input }));',
      NAMES,
      { concurrency: { mode: "serial" } },
    );
    await engine.startAsync();
    const first = await engine.createRun("serial", { input: 1 });
    const second = await engine.createRun("serial", { input: 2 });
    const child = await childOf(engine, first.id);
    await statusIs(engine, first.id, "waiting_for_child");
    await engine.tickAsync();
    expect((await engine.storeAsync.getRun(second.id))?.status).toBe("queued");
    await pendingKeyAsync(engine, child.id, "go");
    await engine.respondToInputAsync(child.id, "go", { value: "one" });
    expect((await engine.waitForRun(first.id)).output).toEqual({ child: "one" });
    const secondChild = await childOf(engine, second.id);
    await pendingKeyAsync(engine, secondChild.id, "go");
    await engine.respondToInputAsync(secondChild.id, "go", { value: "two" });
    expect((await engine.waitForRun(second.id)).output).toEqual({ child: "two" });
  });

  it("cancels a parent waiting_for_child: cancelling, then cancelled", async () => {
    const engine = await pg.open();
    await deployAsync(engine, "gated", GATED_CHILD, NAMES);
    await deployAsync(engine, "parent", 'output(await workflows.call("gated"));', NAMES);
    const { id } = await engine.createRun("parent");
    await statusIs(engine, id, "waiting_for_child");
    await engine.cancelRun(id);
    expect((await engine.waitForRun(id)).status).toBe("cancelled");
    expect((await statusesAsync(engine, id)).slice(-3)).toEqual([
      "waiting_for_child",
      "cancelling",
      "cancelled",
    ]);
  });

  it("a parent left waiting_for_child by a closed engine is resumed at start() and re-attaches to its child", async () => {
    const a = await pg.open();
    await deployAsync(a, "gated", GATED_CHILD, NAMES);
    await deployAsync(a, "parent", 'output(await workflows.call("gated"));', NAMES);
    const { id } = await a.createRun("parent");
    const child = await childOf(a, id);
    await pendingKeyAsync(a, child.id, "go");
    await statusIs(a, id, "waiting_for_child");
    await a.closeGracefully({ childGraceMs: 200 });
    const b = await pg.open();
    expect((await b.storeAsync.getRun(id))?.status).toBe("waiting_for_child");
    expect((await b.startAsync()).resumed).toContain(id);
    await pendingKeyAsync(b, child.id, "go");
    await statusIs(b, id, "waiting_for_child");
    await b.respondToInputAsync(child.id, "go", { value: "again" });
    const row = await b.waitForRun(id);
    expect(row).toMatchObject({ status: "completed", output: { child: "again" }, restarts: 0 });
    expect(await b.storeAsync.listRuns({ parentRunId: id })).toHaveLength(1);
  });
});

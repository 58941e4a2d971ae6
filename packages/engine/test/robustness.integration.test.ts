/**
 * Hostile and edge-case programs at the facade (issue 4 "Must hold" and "Nothing lost at the
 * end of a program"): a stdout flood, a process that never exits, malformed IPC, an exit in the
 * middle of `workflows.call`, 20,000 unflushed lines and 1,000 trailing phases. Each ends in its
 * documented status, nothing it wrote is lost, and the engine keeps serving other runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine, RunRow } from "../src/index.ts";
import { makeEngine, manualMeta, program, statuses, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let logs: string[];

beforeAll(() => {
  dir = tempDir();
  ({ engine, logs } = makeEngine(dir.path));
  engine.deployWorkflow({ program: program(manualMeta("healthy"), 'output("still serving");') });
});

afterAll(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

async function run(
  slug: string,
  body: string,
  extra: Record<string, unknown> = {},
): Promise<RunRow> {
  engine.deployWorkflow({ program: program(manualMeta(slug, extra), body) });
  const started = engine.startRun(slug);
  // Another run alongside the hostile one: the engine keeps serving.
  const healthy = engine.startRun("healthy");
  const [done, other] = await Promise.all([
    engine.waitForRun(started.id),
    engine.waitForRun(healthy.id),
  ]);
  expect(other.output).toBe("still serving");
  return done;
}

function stdoutText(runId: string): string {
  return engine.store
    .listEvents(runId)
    .flatMap((row) =>
      row.event.kind === "program_output" && row.event.stream === "stdout" ? [row.event.text] : [],
    )
    .join("");
}

describe("hostile programs", () => {
  it("a 100,000-line stdout flood completes with every line persisted in order", async () => {
    const done = await run(
      "flood",
      'for (let i = 0; i < 100000; i++) console.log(`flood ${i}`);\noutput("flooded");',
    );
    expect(done.status).toBe("completed");
    const lines = stdoutText(done.id)
      .split("\n")
      .filter((line) => line.length > 0);
    expect(lines).toHaveLength(100_000);
    expect(lines[0]).toBe("flood 0");
    expect(lines[99_999]).toBe("flood 99999");
    expect(statuses(engine, done.id)).toEqual(["queued", "pending", "running", "completed"]);
  });

  it("a process that never exits is ended by its duration budget", async () => {
    const done = await run(
      "forever",
      "setInterval(() => {}, 1000);\nawait new Promise(() => {});",
      {
        budget: { max_duration_seconds: 1 },
      },
    );
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
  });

  it("malformed IPC messages are ignored and logged; the run completes", async () => {
    const done = await run(
      "garbage",
      [
        'process.send({ type: "nonsense", payload: 1 });',
        'process.send({ type: "host_call", callId: -4, method: 12 });',
        'process.send({ type: "emit", body: { kind: "phase" } });',
        'process.send("just a string");',
        "await sleep(50);",
        'output("survived");',
      ].join("\n"),
    );
    expect(done.status).toBe("completed");
    expect(done.output).toBe("survived");
    expect(logs.some((line) => line.includes(done.id))).toBe(true);
  });

  it("a parent that exits mid-workflows.call restarts and re-attaches to the one child", async () => {
    engine.deployWorkflow({
      program: program(manualMeta("slow-one"), 'await sleep(400);\noutput("child done");'),
    });
    const done = await run(
      "quitter",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const pending = workflows.call("slow-one", { k: 1 });',
        'if (!existsSync("quit")) { writeFileSync("quit", ""); setTimeout(() => process.exit(4), 100); }',
        "output(await pending);",
      ].join("\n"),
    );
    expect(done.status).toBe("completed");
    expect(done.output).toBe("child done");
    expect(done.restarts).toBe(1);
    expect(engine.store.listRuns({ parentRunId: done.id })).toHaveLength(1);
  });
});

describe("nothing lost at the end of a program", () => {
  it("20,000 stdout lines written without flushing, then the program ends: all persisted", async () => {
    const done = await run(
      "unflushed",
      "for (let i = 0; i < 20000; i++) process.stdout.write(`line ${i}\\n`);",
    );
    expect(done.status).toBe("completed");
    expect(done.restarts).toBe(0);
    const lines = stdoutText(done.id)
      .split("\n")
      .filter((line) => line.length > 0);
    expect(lines).toHaveLength(20_000);
    expect(new Set(lines).size).toBe(20_000);
    const events = engine.store.listEvents(done.id);
    expect(events.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
  });

  it("1,000 phase() calls as the last statements: every phase event precedes completion", async () => {
    const done = await run("phases", "for (let i = 1; i <= 1000; i++) phase(`p${i}`);");
    expect(done.status).toBe("completed");
    expect(done.restarts).toBe(0);
    const events = engine.store.listEvents(done.id).map((row) => row.event);
    const phases = events.flatMap((event) => (event.kind === "phase" ? [event.id] : []));
    expect(phases).toEqual(Array.from({ length: 1000 }, (_, i) => `phase-${i + 1}`));
    expect(events.at(-1)).toMatchObject({ kind: "run_status", status: "completed" });
  });
});

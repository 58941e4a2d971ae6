/**
 * Run lifecycle, events, crash-and-restart and cancellation scenarios, driven only through the
 * `Engine` facade with real run processes and a real SQLite file. What breaks if these fail: a run
 * that ends twice, lies about its status, or loses events.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, PublishedEvent } from "../src/index.ts";
import {
  cursorsIncrease,
  kinds,
  makeEngine,
  manualMeta,
  program,
  statuses,
  tempDir,
  waitForStatus,
} from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let logs: string[];

beforeEach(() => {
  dir = tempDir();
  ({ engine, logs } = makeEngine(dir.path));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function deploy(slug: string, body: string, extra: Record<string, unknown> = {}): void {
  engine.deployWorkflow({ program: program(manualMeta(slug, extra), body) });
}

describe("lifecycle and events", () => {
  it("completes an echo run: queued row, terminal output, four statuses, output event", async () => {
    engine.deployWorkflow({
      program: program(
        { name: "echo", triggers: [{ kind: "manual" }] },
        "output({ echoed: input });",
      ),
    });
    const started = engine.startRun("echo", { input: { n: 7 } });
    expect(started.status).toBe("queued");
    const run = await engine.waitForRun(started.id);
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ echoed: { n: 7 } });
    expect(run.startedAt).not.toBeNull();
    expect(run.endedAt).not.toBeNull();
    expect(statuses(engine, run.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(kinds(engine, run.id)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "output",
      "run_status",
    ]);
    const events = engine.store.listEvents(run.id);
    expect(events[0]?.cursor).toBe(1);
    expect(events[1]?.cursor).toBe(1_000_001);
    expect(cursorsIncrease(engine, run.id)).toBe(true);
  });

  it("round-trips nested input exactly; no output() means output null and no output event", async () => {
    deploy("echo", "output({ echoed: input });");
    deploy("silent", "const x = 1 + 1;");
    const input = { n: 7, tags: ["a", "b"], nested: { ok: true, none: null } };
    const echoed = await engine.waitForRun(engine.startRun("echo", { input }).id);
    expect(echoed.output).toEqual({ echoed: input });
    const silent = await engine.waitForRun(engine.startRun("silent").id);
    expect(silent.status).toBe("completed");
    expect(silent.output).toBeNull();
    expect(kinds(engine, silent.id)).not.toContain("output");
  });

  it("a thrown error fails the run with PROGRAM_ERROR on row and last event", async () => {
    deploy("boom", 'throw new Error("kaboom: empty dataset");');
    const run = await engine.waitForRun(engine.startRun("boom").id);
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ code: "PROGRAM_ERROR", message: "kaboom: empty dataset" });
    const last = engine.store.listEvents(run.id).at(-1)?.event;
    expect(last).toMatchObject({
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR", message: "kaboom: empty dataset" },
    });
    expect(statuses(engine, run.id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("verdict then throw keeps the output and orders the output event first", async () => {
    deploy("verdict", 'output({ healthy: false }); throw new Error("not healthy");');
    const run = await engine.waitForRun(engine.startRun("verdict").id);
    expect(run.status).toBe("failed");
    expect(run.output).toEqual({ healthy: false });
    expect(kinds(engine, run.id)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "output",
      "run_status",
    ]);
  });

  it("a program that fails to parse in Node fails with PROGRAM_ERROR and no restart", async () => {
    // Valid for the static extractor, rejected by Node: a duplicate lexical declaration.
    deploy("syntax", "let twice = 1;\nlet twice = 2;");
    const run = await engine.waitForRun(engine.startRun("syntax").id);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("PROGRAM_ERROR");
    expect(run.restarts).toBe(0);
  });

  it("the module body is the program; a default export is never called and warned about", async () => {
    deploy("body", 'output("body");\nexport default function main() { output("wrapper"); }');
    const run = await engine.waitForRun(engine.startRun("body").id);
    expect(run.output).toBe("body");
    const stderr = engine.store
      .listEvents(run.id)
      .flatMap((row) =>
        row.event.kind === "program_output" && row.event.stream === "stderr"
          ? [row.event.text]
          : [],
      )
      .join("");
    expect(stderr).toMatch(/module body is the program/i);
  });

  it("captures stdout and stderr as program_output events before the terminal event", async () => {
    deploy("logs", 'console.log("out line"); console.error("err line");');
    const run = await engine.waitForRun(engine.startRun("logs").id);
    const events = engine.store.listEvents(run.id).map((row) => row.event);
    const outputs = events.filter((event) => event.kind === "program_output");
    expect(outputs.some((e) => e.stream === "stdout" && e.text.includes("out line"))).toBe(true);
    expect(outputs.some((e) => e.stream === "stderr" && e.text.includes("err line"))).toBe(true);
    for (const event of outputs) expect(event.turnId).toBe(run.id);
    const lastOutput = events.findLastIndex((event) => event.kind === "program_output");
    expect(lastOutput).toBeLessThan(events.length - 1);
    expect(events.at(-1)?.kind).toBe("run_status");
  });

  it("listEvents(afterCursor) returns exactly the suffix for every cursor", async () => {
    deploy("phases", 'phase("a"); console.log("x"); phase("b"); output(1);');
    const run = await engine.waitForRun(engine.startRun("phases").id);
    const all = engine.store.listEvents(run.id);
    expect(engine.store.listEvents(run.id, { afterCursor: 0 })).toEqual(all);
    all.forEach((row, index) => {
      expect(engine.store.listEvents(run.id, { afterCursor: row.cursor })).toEqual(
        all.slice(index + 1),
      );
    });
  });

  it("phase ids default to phase-<n>; the legacy Phase alias works", async () => {
    engine.deployWorkflow({
      program: program(
        manualMeta("phased"),
        'phase("collect"); Phase("publish", { id: "publish-phase" });',
        { names: ["phase", "Phase"] },
      ),
    });
    const run = await engine.waitForRun(engine.startRun("phased").id);
    const phases = engine.store
      .listEvents(run.id)
      .flatMap((row) => (row.event.kind === "phase" ? [[row.event.name, row.event.id]] : []));
    expect(phases).toEqual([
      ["collect", "phase-1"],
      ["publish", "publish-phase"],
    ]);
  });

  it("onEvent sees exactly the persisted stream in order, and nothing after unsubscribe", async () => {
    deploy("watched", 'phase("one"); console.log("hello"); output("done");');
    const seen: PublishedEvent[] = [];
    const unsubscribe = engine.onEvent((row) => seen.push(row));
    const run = await engine.waitForRun(engine.startRun("watched").id);
    // Each published row is the persisted row plus its run's workflow id and slug.
    expect(seen.filter((row) => row.runId === run.id)).toEqual(
      engine.store
        .listEvents(run.id)
        .map((row) => ({ ...row, workflowId: run.workflowId, workflowSlug: "watched" })),
    );
    unsubscribe();
    const count = seen.length;
    await engine.waitForRun(engine.startRun("watched").id);
    expect(seen.length).toBe(count);
  });

  it("a throwing onEvent listener is logged and does not affect the run", async () => {
    deploy("fine", 'output("ok");');
    engine.onEvent(() => {
      throw new Error("listener bug");
    });
    const run = await engine.waitForRun(engine.startRun("fine").id);
    expect(run.status).toBe("completed");
    expect(logs.some((line) => line.includes("listener bug"))).toBe(true);
  });

  it("a raw emit of a run_status body is dropped and logged", async () => {
    deploy(
      "forger",
      'process.send({ type: "emit", body: { kind: "run_status", status: "completed" } });\nawait sleep(50);\noutput("real");',
    );
    const run = await engine.waitForRun(engine.startRun("forger").id);
    expect(run.output).toBe("real");
    expect(statuses(engine, run.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(logs.some((line) => line.includes(run.id) && line.includes("run_status"))).toBe(true);
  });
});

describe("crash and restart", () => {
  it("crash once then success: restarts 1 and the six-status sequence", async () => {
    deploy(
      "crash-once",
      'import { existsSync, writeFileSync } from "node:fs";\nif (!existsSync("marker")) { writeFileSync("marker", "1"); process.exit(7); }\noutput("recovered");',
    );
    const run = await engine.waitForRun(engine.startRun("crash-once").id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("recovered");
    expect(run.restarts).toBe(1);
    expect(statuses(engine, run.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
    expect(cursorsIncrease(engine, run.id)).toBe(true);
  });

  it("always crashing with maxRestarts 1 ends CRASHED with restarts 2", async () => {
    await engine.closeGracefully();
    ({ engine } = makeEngine(dir.path, { maxRestarts: 1 }));
    deploy("always-crash", "process.exit(3);");
    const run = await engine.waitForRun(engine.startRun("always-crash").id);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("CRASHED");
    expect(run.restarts).toBe(2);
    expect(statuses(engine, run.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "failed",
    ]);
  });

  it("always crashing with the default budget ends CRASHED after three passes", async () => {
    deploy("always-crash", "process.exit(3);");
    const run = await engine.waitForRun(engine.startRun("always-crash").id);
    expect(run.error?.code).toBe("CRASHED");
    expect(run.restarts).toBe(3);
    expect(statuses(engine, run.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "pending",
      "running",
      "failed",
    ]);
  });

  it("process.exit(0) before finishing counts as a crash", async () => {
    deploy(
      "exit-zero",
      'import { existsSync, writeFileSync } from "node:fs";\nif (!existsSync("m")) { writeFileSync("m", ""); process.exit(0); }\noutput("second");',
    );
    const run = await engine.waitForRun(engine.startRun("exit-zero").id);
    expect(run.restarts).toBeGreaterThanOrEqual(1);
    expect(run.output).toBe("second");
  });

  it("sleep holds the process: locals survive and nothing restarts", async () => {
    deploy(
      "sleeper",
      "const local = { kept: true }; const t0 = Date.now(); await sleep(400); output({ elapsed: Date.now() - t0, local });",
    );
    const run = await engine.waitForRun(engine.startRun("sleeper").id);
    const result = run.output as { elapsed: number; local: { kept: boolean } };
    expect(result.elapsed).toBeGreaterThanOrEqual(380);
    expect(result.local.kept).toBe(true);
    expect(run.restarts).toBe(0);
  });
});

describe("cancellation", () => {
  it("cancels a sleeping running run without waiting for the sleep", async () => {
    deploy("long-sleep", "await sleep(60_000);");
    const { id } = engine.startRun("long-sleep");
    await waitForStatus(engine, id, "running");
    await engine.cancelRun(id);
    const run = engine.store.getRun(id);
    expect(run?.status).toBe("cancelled");
    expect(run?.endedAt).not.toBeNull();
    expect(run?.error).toBeNull();
    expect(statuses(engine, id)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
  });

  it("a program ignoring SIGTERM is still cancelled after the grace", async () => {
    deploy("stubborn", 'process.on("SIGTERM", () => {});\nawait sleep(60_000);');
    const { id } = engine.startRun("stubborn");
    await waitForStatus(engine, id, "running");
    await engine.cancelRun(id);
    expect(engine.store.getRun(id)?.status).toBe("cancelled");
  });

  it("cancelling a queued serial run spawns nothing", async () => {
    deploy("serial", "await sleep(60_000);", { concurrency: { mode: "serial" } });
    const first = engine.startRun("serial");
    const second = engine.startRun("serial");
    expect(engine.store.getRun(second.id)?.status).toBe("queued");
    await engine.cancelRun(second.id);
    const run = engine.store.getRun(second.id);
    expect(run?.status).toBe("cancelled");
    expect(run?.endedAt).not.toBeNull();
    expect(statuses(engine, second.id)).toEqual(["queued", "cancelled"]);
    expect(existsSync(join(dir.path, "runs", second.id))).toBe(false);
    await engine.cancelRun(first.id);
  });

  it("cancelRun on a terminal run changes nothing; on an unknown id rejects NOT_FOUND", async () => {
    deploy("quick", 'output("q");');
    const run = await engine.waitForRun(engine.startRun("quick").id);
    const before = engine.store.listEvents(run.id);
    await engine.cancelRun(run.id);
    expect(engine.store.getRun(run.id)).toEqual(run);
    expect(engine.store.listEvents(run.id)).toEqual(before);
    await expect(engine.cancelRun("01UNKNOWNRUNID0000000000000")).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("cancel racing completion ends cancelled, never completed", async () => {
    await engine.closeGracefully();
    ({ engine } = makeEngine(dir.path, { cancelGraceMs: 2000 }));
    deploy(
      "racer",
      'process.on("SIGTERM", () => {});\nphase("armed");\nawait sleep(500);\noutput("finished");',
    );
    const { id } = engine.startRun("racer");
    await waitForStatus(engine, id, "running");
    // `running` is stamped before the process has loaded the program: wait until the handler
    // is installed, so the race is between the grace window and the program's completion.
    while (!kinds(engine, id).includes("phase")) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    await engine.cancelRun(id);
    const run = engine.store.getRun(id);
    expect(run?.status).toBe("cancelled");
    expect(run?.output).toBeNull();
    expect(statuses(engine, id)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
    const eventKinds = kinds(engine, id);
    expect(eventKinds.at(-1)).toBe("run_status");
    expect(eventKinds.indexOf("output")).toBe(eventKinds.length - 2);
  });
});

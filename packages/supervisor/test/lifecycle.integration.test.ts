// The run lifecycle with real run processes: statuses, kinds, cursors, output,
// program errors, stdout/stderr capture, phases, and messages the child may not send.
import { createHook } from "node:async_hooks";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PublishedEvent } from "@promenade/workflow/records";
import { createHarness, directSourceLaunch, manifestOf, sourceLaunch, until } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

/**
 * Watches the timers the supervisor's own code sets from now on; `keepingAlive()` gives the
 * creation stack of each that is still pending and would keep the process alive.
 */
function watchSupervisorTimers(): { keepingAlive(): string[]; stop(): void } {
  const ours = `${sep}supervisor${sep}src${sep}`;
  const timers = new Map<number, { timer: NodeJS.Timeout; stack: string }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type !== "Timeout") return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error("timer set").stack ?? "";
      Error.stackTraceLimit = limit;
      if (stack.includes(ours)) timers.set(id, { timer: resource as NodeJS.Timeout, stack });
    },
    destroy(id) {
      timers.delete(id);
    },
  }).enable();
  return {
    keepingAlive: () =>
      [...timers.values()].filter(({ timer }) => timer.hasRef()).map(({ stack }) => stack),
    stop: () => hook.disable(),
  };
}

function strictlyIncreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v > (values[i - 1] ?? 0));
}

/** The default launch, keeping each process it creates (in creation order). */
function recordingLaunch(): { launch: typeof sourceLaunch; launched: ChildProcess[] } {
  const launched: ChildProcess[] = [];
  const launch: typeof sourceLaunch = (args) => {
    const child = sourceLaunch(args);
    launched.push(child);
    return child;
  };
  return { launch, launched };
}

describe("lifecycle with real run processes", () => {
  it("completes an echo run with the documented statuses, events and row", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, "output({ echoed: input });");
    const row = await h.run("echo", { n: 7 });
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ echoed: { n: 7 } });
    expect(row.startedAt).not.toBeNull();
    expect(row.endedAt).not.toBeNull();
    expect(row.restarts).toBe(0);
    expect(h.statuses(row.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(h.kinds(row.id)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "output",
      "run_status",
    ]);
    const cursors = h.events(row.id).map((e) => e.cursor);
    expect(cursors.slice(0, 2)).toEqual([1, 1_000_001]);
    expect(strictlyIncreasing(cursors)).toBe(true);
  });

  it("completes a run whose process this process spawned itself (no spawner)", async () => {
    h = createHarness({ launch: directSourceLaunch });
    h.deploy({ slug: "echo" }, 'console.log("hi"); output({ echoed: input });');
    const row = await h.run("echo", { n: 8 });
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({ echoed: { n: 8 } });
    expect(h.statuses(row.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(h.printed(row.id)).toBe("hi\n");
  });

  it("leaves no timer behind once a finished run's process has exited", async () => {
    // A timer left running would keep an embedding process (a CLI, a server shutting down)
    // alive after its last run.
    const { launch, launched } = recordingLaunch();
    h = createHarness({ launch });
    h.deploy({ slug: "echo" }, "output(1);");
    const timers = watchSupervisorTimers();
    try {
      const row = await h.run("echo");
      expect(row.status).toBe("completed");
      const child = launched[0]!;
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers.keepingAlive()).toEqual([]);
    } finally {
      timers.stop();
    }
  });

  it("ends a run on its report and closed output, before its process has finished exiting", async () => {
    // A process's teardown after `exit` (freeing its heap and address space) takes longer than a
    // trivial run: the run ends once the report is in and the output closed, not at the exit.
    // Here the teardown waits for a file the test writes only after it has seen the run end;
    // what the program prints in its own `exit` listener is still the run's output.
    const { launch, launched } = recordingLaunch();
    h = createHarness({ launch });
    const release = join(h.dataDir, "release-exit");
    h.deploy(
      { slug: "slow-teardown" },
      [
        'import { existsSync } from "node:fs";',
        'process.on("exit", () => console.log("printed on exit"));',
        "const reallyExit = process.reallyExit;",
        "process.reallyExit = (code) => {",
        "  const gate = new Int32Array(new SharedArrayBuffer(4));",
        `  while (!existsSync(${JSON.stringify(release)})) Atomics.wait(gate, 0, 0, 20);`,
        "  reallyExit.call(process, code);",
        "};",
        'output("reported");',
      ].join("\n"),
    );
    const runId = await h.create("slow-teardown");
    const supervised = h.supervisor.supervise(runId);
    try {
      await until(() => h.statuses(runId).includes("completed"), 30_000);
      expect(h.supervisor.isExecuting(runId)).toBe(false);
      expect(h.printed(runId)).toBe("printed on exit\n");
      const child = launched[0]!;
      expect([child.exitCode, child.signalCode]).toEqual([null, null]);
    } finally {
      writeFileSync(release, "");
    }
    expect(await supervised).toMatchObject({ status: "completed", output: "reported" });
  });

  it("round-trips nested input and passes the frozen deploy config", async () => {
    h = createHarness();
    h.deploy(
      { slug: "echo" },
      "output({ echoed: input, config, frozen: Object.isFrozen(config) });",
      { region: "eu" },
    );
    const input = { n: 7, tags: ["a", "b"], nested: { ok: true, none: null } };
    const row = await h.run("echo", input);
    expect(row.output).toEqual({ echoed: input, config: { region: "eu" }, frozen: true });
  });

  it("completes with output null and no output event when output() is never called", async () => {
    h = createHarness();
    h.deploy({ slug: "quiet" }, "const x = 1 + 1;");
    const row = await h.run("quiet");
    expect(row.status).toBe("completed");
    expect(row.output).toBeNull();
    expect(h.kinds(row.id)).not.toContain("output");
  });

  it("ends failed with PROGRAM_ERROR when the program throws", async () => {
    h = createHarness();
    h.deploy({ slug: "boom" }, 'throw new Error("kaboom: empty dataset");');
    const row = await h.run("boom");
    expect(row.status).toBe("failed");
    expect(row.error).toEqual({
      code: "PROGRAM_ERROR",
      message: "kaboom: empty dataset",
      name: "Error",
      stack: expect.stringMatching(
        /^Error: kaboom: empty dataset\n {4}at index\.mjs:\d+:\d+$/,
      ) as unknown,
    });
    expect(h.statuses(row.id)).toEqual(["queued", "pending", "running", "failed"]);
    const last = h.events(row.id).at(-1)?.event;
    expect(last).toMatchObject({
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR", message: "kaboom: empty dataset" },
    });
  });

  it("keeps a declared verdict on a run that then throws", async () => {
    h = createHarness();
    h.deploy({ slug: "verdict" }, 'output({ healthy: false }); throw new Error("not healthy");');
    const row = await h.run("verdict");
    expect(row.status).toBe("failed");
    expect(row.output).toEqual({ healthy: false });
    expect(h.kinds(row.id)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "output",
      "run_status",
    ]);
  });

  it("fails a program with a syntax error as PROGRAM_ERROR without restarting", async () => {
    h = createHarness();
    h.deploy({ slug: "syntax" }, "const = ;");
    const row = await h.run("syntax");
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("PROGRAM_ERROR");
    expect(row.restarts).toBe(0);
  });

  it("never calls a default-exported function and warns on stderr", async () => {
    h = createHarness();
    h.deploy(
      { slug: "defaulted" },
      'output("body");\nexport default async function main() { output("wrapper"); }',
    );
    const row = await h.run("defaulted");
    expect(row.output).toBe("body");
    expect(h.printed(row.id, "stderr")).toContain("module body is the program");
  });

  it("captures stdout and stderr as program_output events before the terminal event", async () => {
    h = createHarness();
    h.deploy({ slug: "logs" }, 'console.log("out line"); console.error("err line");');
    const row = await h.run("logs");
    const events = h.events(row.id);
    const outputs = events.filter((e) => e.event.kind === "program_output");
    const text = (stream: string) =>
      outputs
        .map((e) => e.event)
        .filter((e) => e.kind === "program_output" && e.stream === stream)
        .map((e) => (e.kind === "program_output" ? e.text : ""))
        .join("");
    expect(text("stdout")).toContain("out line");
    expect(text("stderr")).toContain("err line");
    expect(outputs.every((e) => e.event.turnId === row.id)).toBe(true);
    expect(events.at(-1)?.event.kind).toBe("run_status");
  });

  it("emits phase events with counted and explicit ids (Phase is an alias)", async () => {
    h = createHarness();
    h.deploy(
      { slug: "phases" },
      'phase("collect"); Phase("publish", { id: "publish-phase" }); phase("");',
    );
    const row = await h.run("phases");
    const phases = h.events(row.id).flatMap((e) => (e.event.kind === "phase" ? [e.event] : []));
    expect(phases.map((p) => [p.name, p.id])).toEqual([
      ["collect", "phase-1"],
      ["publish", "publish-phase"],
    ]);
  });

  it("records every phase of a tight loop in order, across batch boundaries", async () => {
    h = createHarness();
    h.deploy(
      { slug: "loop" },
      'for (let i = 0; i < 1000; i++) phase("p" + i); await sleep(1); phase("after");',
    );
    const row = await h.run("loop");
    expect(row.status).toBe("completed");
    const names = h.events(row.id).flatMap((e) => (e.event.kind === "phase" ? [e.event.name] : []));
    expect(names).toEqual([...Array.from({ length: 1000 }, (_, i) => `p${i}`), "after"]);
    const cursors = h.events(row.id).map((e) => e.cursor);
    expect(strictlyIncreasing(cursors)).toBe(true);
  });

  it("keeps the phases a program emitted right before it exits or dies", async () => {
    h = createHarness({ maxRestarts: 0 });
    h.deploy(
      { slug: "exits" },
      'phase("before-exit"); if (input.how === "exit") process.exit(3); setTimeout(() => { phase("before-throw"); throw new Error("boom"); }, 1); await sleep(60_000);',
    );
    const exited = await h.run("exits", { how: "exit" });
    const thrown = await h.run("exits", { how: "throw" });
    for (const [row, last] of [
      [exited, "before-exit"],
      [thrown, "before-throw"],
    ] as const) {
      expect(row.status).toBe("failed");
      expect(row.error?.code).toBe("CRASHED");
      const names = h
        .events(row.id)
        .flatMap((e) => (e.event.kind === "phase" ? [e.event.name] : []));
      expect(names.at(-1)).toBe(last);
    }
  });

  it("reads a batch message by message: forbidden ones are dropped, the rest recorded", async () => {
    h = createHarness();
    h.deploy(
      { slug: "batcher" },
      [
        'process.send({ type: "batch", messages: [',
        '  { type: "emit", body: { kind: "phase", name: "one", id: "one" } },',
        '  { type: "done", output: "forged", outputDeclared: true },',
        '  { type: "batch", messages: [] },',
        '  { type: "emit", body: { kind: "run_status", status: "completed" } },',
        '  { type: "emit", body: { kind: "phase", name: "two", id: "two" } },',
        "] });",
        'output("real");',
      ].join("\n"),
    );
    const row = await h.run("batcher");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("real");
    const names = h.events(row.id).flatMap((e) => (e.event.kind === "phase" ? [e.event.name] : []));
    expect(names).toEqual(["one", "two"]);
    expect(h.logs.filter((l) => l.includes("may not batch"))).toHaveLength(2);
    expect(h.logs.some((l) => l.includes("run_status"))).toBe(true);
  });

  it("drops supervisor-owned and malformed messages from the child, logging them", async () => {
    h = createHarness();
    h.deploy(
      { slug: "rogue" },
      [
        'process.send({ type: "emit", body: { kind: "run_status", status: "completed" } });',
        'process.send({ type: "emit", body: { kind: "output", value: 1 } });',
        'process.send({ type: "bogus" });',
        'process.send("not an object");',
        'process.send({ type: "host_call", callId: -1, method: "", args: 3 });',
        'process.send({ type: "emit", body: { kind: "phase" } });',
        'output("survived");',
      ].join("\n"),
    );
    const row = await h.run("rogue");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("survived");
    expect(h.statuses(row.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(h.kinds(row.id).filter((k) => k === "output")).toHaveLength(1);
    expect(h.logs.some((l) => l.includes("run_status"))).toBe(true);
    expect(h.logs.filter((l) => l.includes("malformed")).length).toBeGreaterThanOrEqual(3);
  });

  it("holds the process across sleep: locals survive and no restart happens", async () => {
    h = createHarness();
    h.deploy(
      { slug: "sleeper" },
      "const local = { v: 42 }; const t0 = Date.now(); await sleep(400); output({ elapsed: Date.now() - t0, v: local.v });",
    );
    const row = await h.run("sleeper");
    const out = row.output as { elapsed: number; v: number };
    expect(out.elapsed).toBeGreaterThanOrEqual(380);
    expect(out.v).toBe(42);
    expect(row.restarts).toBe(0);
  });

  it("rejects bad sleep arguments with VALIDATION and accepts past targets", async () => {
    h = createHarness();
    h.deploy(
      { slug: "sleepy" },
      [
        "const codes = [];",
        "for (const arg of [NaN, Infinity, { until: 'not a date' }, { until: new Date('x') }, { minutes: 5 }]) {",
        "  try { await sleep(arg); codes.push('ok'); } catch (e) { codes.push(e.code); }",
        "}",
        "await sleep(-5); await sleep({ until: new Date(0) }); await sleep({ durationMs: 1, until: 'x' });",
        "output(codes);",
      ].join("\n"),
    );
    const row = await h.run("sleepy");
    expect(row.output).toEqual(Array(5).fill("VALIDATION"));
  });

  it("rejects agent() with UNSUPPORTED when no agent loop is plugged in", async () => {
    h = createHarness();
    h.deploy({ slug: "agentless" }, 'await agent("hello");');
    const row = await h.run("agentless");
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("UNSUPPORTED");
    expect(row.error?.message).toContain("agent() is not available in this engine build");
  });

  it("resolves @boardwalk-labs/workflow to the same SDK instance as @promenade/workflow", async () => {
    h = createHarness();
    const program = [
      'import { output as bwOutput, input as bwInput } from "@boardwalk-labs/workflow";',
      'import { output } from "@promenade/workflow";',
      'export const meta = { name: "legacy", triggers: [{ kind: "manual" }] };',
      "bwOutput({ same: bwOutput === output, input: bwInput });",
    ].join("\n");
    h.store.addWorkflow({
      slug: "legacy",
      manifest: manifestOf({ slug: "legacy" }),
      program,
    });
    const row = await h.run("legacy", "hi");
    expect(row.output).toEqual({ same: true, input: "hi" });
  });

  it("fails with VALIDATION when the declared output is not JSON", async () => {
    h = createHarness();
    h.deploy({ slug: "bigint" }, "output({ n: 10n });");
    const row = await h.run("bigint");
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("VALIDATION");
  });

  it("has the store publish every event of the run once, in cursor order, the terminal one last", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, 'console.log("x"); phase("p"); output(1);');
    const seen: PublishedEvent[] = [];
    h.store.subscribe((row) => seen.push(row));
    const row = await h.run("echo");
    const mine = seen.filter((e) => e.runId === row.id);
    expect(mine.map((e) => e.cursor)).toEqual(h.events(row.id).map((e) => e.cursor));
    expect(strictlyIncreasing(mine.map((e) => e.cursor))).toBe(true);
    expect(mine.every((e) => e.workflowSlug === "echo")).toBe(true);
    expect(mine.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
    expect(new Set(mine.map((e) => e.event.kind))).toEqual(
      new Set(["run_status", "program_output", "phase", "output"]),
    );
  });
});

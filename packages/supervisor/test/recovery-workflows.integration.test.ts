// Engine restart / boot sweep / shutdown, and workflows.call/run child runs:
// deterministic default keys, re-attach after a parent restart, child failure mapping.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunSupervisor } from "../src/index.ts";
import { createHarness, childEntryPath, sourceLaunch, until } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe("engine restart and recovery", () => {
  it("resumes a run left running by a closed supervisor, keeping startedAt and restarts", async () => {
    h = createHarness();
    h.deploy({ slug: "sleeper" }, 'await sleep(1500); output("slept");');
    const id = await h.create("sleeper");
    const first = h.supervisor.supervise(id);
    await until(() => h.statuses(id).includes("running"));
    const startedAt = h.store.peek.run(id)?.startedAt;
    await h.supervisor.shutdown(1000);
    await expect(first).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("closed"),
    });
    expect(h.store.peek.run(id)?.status).toBe("running");

    const logs: string[] = [];
    const second = new RunSupervisor({
      store: h.store,
      dataDir: h.dataDir,
      childEntryPath,
      launch: sourceLaunch,
      env: new Map(),
      processEnv: {},
      envLabel: "test",
      priceUsage: () => 0,
      log: (l) => logs.push(l),
    });
    const queued = await h.create("sleeper");
    const sweep = await second.recoverOnBoot();
    expect(sweep.resumed).toEqual([id, queued]);
    expect(second.isExecuting(id)).toBe(true);
    expect(second.isExecuting(queued)).toBe(false);
    const row = await second.supervise(id);
    expect(row.status).toBe("completed");
    expect(row.output).toBe("slept");
    expect(row.restarts).toBe(0);
    expect(row.startedAt).toBe(startedAt);
    expect(h.statuses(id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
    const cursors = h.events(id).map((e) => e.cursor);
    expect(cursors.every((c, i) => i === 0 || c > (cursors[i - 1] ?? 0))).toBe(true);
    expect(logs).toContain("recovery sweep: restarted 1 run(s), cancelled 0");
    await second.shutdown();
  });

  it("finishes a cancellation interrupted by an engine stop on the next boot", async () => {
    h = createHarness({ cancelGraceMs: 60_000 });
    h.deploy(
      { slug: "stubborn" },
      'process.on("SIGTERM", () => {}); console.log("ready"); await sleep(60_000);',
    );
    const id = await h.create("stubborn");
    void h.supervisor.supervise(id);
    await until(() => h.kinds(id).includes("program_output"));
    const cancelling = h.supervisor.cancel(id);
    await until(() => h.store.peek.run(id)?.status === "cancelling");
    const rejected = expect(cancelling).rejects.toMatchObject({ code: "INTERNAL" });
    await h.supervisor.shutdown(200);
    await rejected;
    expect(h.store.peek.run(id)?.status).toBe("cancelling");

    const next = new RunSupervisor({
      store: h.store,
      dataDir: h.dataDir,
      childEntryPath,
      launch: sourceLaunch,
      env: new Map(),
      processEnv: {},
      envLabel: "test",
      priceUsage: () => 0,
      log: () => undefined,
    });
    expect(await next.recoverOnBoot()).toEqual({ resumed: [], cancelled: [id] });
    expect(h.store.peek.run(id)).toMatchObject({ status: "cancelled", error: null });
    expect(h.store.peek.run(id)?.endedAt).not.toBeNull();
    expect(h.statuses(id)).toEqual(["queued", "pending", "running", "cancelling", "cancelled"]);
    await next.shutdown();
  });

  it("a run process whose IPC channel disconnects exits at once and is restarted", async () => {
    let launches = 0;
    h = createHarness({
      launch: (args) => {
        const child = sourceLaunch(args);
        launches += 1;
        if (launches === 1) {
          child.stdout?.once("data", () => child.disconnect());
        }
        return child;
      },
    });
    h.deploy(
      { slug: "orphaned" },
      'import { existsSync, writeFileSync } from "node:fs"; if (!existsSync("m")) { writeFileSync("m", "1"); console.log("ready"); await sleep(60_000); } output("second pass");',
    );
    const row = await h.run("orphaned");
    expect(row).toMatchObject({ status: "completed", output: "second pass", restarts: 1 });
    expect(h.logs.some((l) => l.includes("exit code 1"))).toBe(true);
  });

  it("recoverOne resumes one orphan (waitForRun without start())", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, 'output("again");');
    const id = await h.create("echo");
    h.store.patchRun(id, { status: "pending" });
    const row = await h.supervisor.recoverOne(id);
    expect(row.output).toBe("again");
    expect(h.statuses(id)).toEqual(["queued", "pending", "running", "completed"]);
  });

  it("writes nothing after shutdown and rejects new work with INTERNAL", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, "output(1);");
    const id = await h.create("echo");
    await h.supervisor.shutdown();
    await expect(h.supervisor.supervise(id)).rejects.toMatchObject({ code: "INTERNAL" });
    await expect(h.supervisor.cancel(id)).rejects.toMatchObject({ code: "INTERNAL" });
    expect(() => h.supervisor.recoverOnBoot()).toThrow(/closed/);
    expect(h.statuses(id)).toEqual(["queued"]);
  });
});

describe("workflows.call and workflows.run", () => {
  it("returns the child's output to workflows.call", async () => {
    h = createHarness();
    h.deploy({ slug: "double" }, "output({ doubled: input.n * 2 });");
    h.deploy({ slug: "caller" }, 'output(await workflows.call("double", { n: 21 }));');
    const row = await h.run("caller");
    expect(row.output).toEqual({ doubled: 42 });
    const children = h.store.peek.runs({ parentRunId: row.id });
    expect(children).toHaveLength(1);
    expect(children[0]?.triggerKind).toBe("manual");
    expect(h.statuses(children[0]!.id)).toEqual(["queued", "pending", "running", "completed"]);
  });

  it("re-attaches to the same child after the parent crashes mid-call", async () => {
    h = createHarness();
    const outside = join(h.dataDir, "outside.txt");
    h.deploy(
      { slug: "appender" },
      `import { appendFileSync } from "node:fs"; appendFileSync(${JSON.stringify(outside)}, "x"); await sleep(300); output("child");`,
    );
    h.deploy(
      { slug: "parent" },
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const pending = workflows.call("appender", { a: 1 });',
        'if (!existsSync("marker")) { writeFileSync("marker", "1"); await sleep(100); process.exit(9); }',
        "output(await pending);",
      ].join("\n"),
    );
    const row = await h.run("parent");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("child");
    expect(row.restarts).toBe(1);
    expect(readFileSync(outside, "utf8")).toBe("x");
    const children = h.store.peek.runs({ parentRunId: row.id });
    expect(children).toHaveLength(1);
    expect(children[0]?.status).toBe("completed");
  });

  it("starts a child without holding for workflows.run", async () => {
    h = createHarness();
    h.deploy({ slug: "slow-child" }, 'await sleep(2000); output("late");');
    h.deploy({ slug: "starter" }, 'output(await workflows.run("slow-child", {}));');
    const row = await h.run("starter");
    const childId = row.output as string;
    const child = h.store.peek.run(childId);
    expect(child?.parentRunId).toBe(row.id);
    expect(["queued", "pending", "running"]).toContain(child?.status);
    const done = await h.supervisor.supervise(childId);
    expect(done.output).toBe("late");
  });

  it("maps a missing target, a failing child and a cancelled child to NOT_FOUND, PROGRAM_ERROR, CANCELLED", async () => {
    h = createHarness();
    h.deploy({ slug: "missing" }, 'await workflows.call("not-deployed", {});');
    h.deploy({ slug: "failing" }, 'throw new Error("child broke");');
    h.deploy({ slug: "cancelled-child" }, "await sleep(60_000);");
    h.deploy(
      { slug: "catcher" },
      [
        "const result = {};",
        'try { await workflows.call("failing", {}); } catch (e) { result.failed = [e.code, e.message]; }',
        'try { await workflows.call("cancelled-child", {}); } catch (e) { result.cancelled = e.code; }',
        'try { await workflows.call("failing", {}, { idempotencyKey: "" }); } catch (e) { result.emptyKey = e.code; }',
        "output(result);",
      ].join("\n"),
    );
    const missing = await h.run("missing");
    expect(missing.error?.code).toBe("NOT_FOUND");
    expect(missing.error?.message).toContain("not-deployed");

    const catcher = await h.create("catcher");
    const done = h.supervisor.supervise(catcher);
    await until(() =>
      h.store.peek
        .runs({ parentRunId: catcher })
        .some(
          (r) =>
            r.status === "running" &&
            h.store.peek.workflowById(r.workflowId)?.slug === "cancelled-child",
        ),
    );
    const child = h.store.peek
      .runs({ parentRunId: catcher })
      .find((r) => h.store.peek.workflowById(r.workflowId)?.slug === "cancelled-child");
    await h.supervisor.cancel(child!.id);
    const row = await done;
    const out = row.output as { failed: [string, string]; cancelled: string; emptyKey: string };
    expect(out.failed[0]).toBe("PROGRAM_ERROR");
    expect(out.failed[1]).toContain("child broke");
    expect(out.cancelled).toBe("CANCELLED");
    expect(out.emptyKey).toBe("VALIDATION");
  });
});

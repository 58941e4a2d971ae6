/**
 * The facade itself: deploy validation and upsert, skills on disk, startRun input/idempotency
 * rules, runOnce, workflows-dir loading, and the scheduler driven through `engine.tick()` with an
 * injected clock.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "@promenade/store";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine, isEngineError, isTerminal } from "../src/index.ts";
import { wallClock } from "@promenade/workflow/clock";
import type { Clock } from "@promenade/workflow/clock";
import { createManualClock } from "@promenade/workflow/testing";
import type { EngineError, EngineOptions } from "../src/index.ts";
import { makeEngine, manualMeta, program, statuses, tempDir, waitForStatus } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let logs: string[];
const extra: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
  ({ engine, logs } = makeEngine(dir.path));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  for (const other of extra.splice(0)) await other.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

describe("construction", () => {
  it("rejects bad options with VALIDATION naming the option", () => {
    const bad: [Partial<EngineOptions>, string][] = [
      [{ dataDir: "" }, "dataDir"],
      [{ maxRestarts: -1 }, "maxRestarts"],
      [{ cancelGraceMs: 1.5 }, "cancelGraceMs"],
      [{ tickIntervalMs: 0 }, "tickIntervalMs"],
      [{ env: { A: 1 as unknown as string } }, "env"],
      [{ clock: { now: () => 0 } as unknown as Clock }, "clock"],
      [{ nope: true } as Partial<EngineOptions>, "nope"],
    ];
    for (const [options, name] of bad) {
      let caught: unknown;
      try {
        new Engine({ dataDir: join(dir.path, "x"), ...options });
      } catch (error) {
        caught = error;
      }
      expect(isEngineError(caught), name).toBe(true);
      expect((caught as EngineError).code).toBe("VALIDATION");
      expect((caught as EngineError).message).toContain(name);
    }
  });

  it("creates the data dir and database; ping works; artifactsDir is computed", () => {
    const nested = join(dir.path, "a", "b");
    const other = new Engine({ dataDir: nested, log: () => undefined });
    extra.push(other);
    expect(existsSync(join(nested, "promenade.db"))).toBe(true);
    expect(() => other.ping()).not.toThrow();
    expect(other.artifactsDir("01ABC")).toBe(join(nested, "runs", "01ABC", "artifacts"));
    expect(() => other.artifactsDir("../etc")).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
    expect(isTerminal("completed")).toBe(true);
    expect(isTerminal("cancelling")).toBe(false);
  });
});

describe("deployWorkflow", () => {
  it("derives the manifest from meta, upserts by slug and replaces skills wholesale", () => {
    const first = engine.deployWorkflow({
      program: program(
        { slug: "docs", description: "Summarise docs", triggers: [{ kind: "manual" }] },
        'output("v1");',
      ),
      skills: { style: "# Style\nBe brief.", tone: "# Tone" },
    });
    expect(first.manifest.description).toBe("Summarise docs");
    expect(first.manifest.triggers).toEqual([{ kind: "manual" }]);
    expect(first.name).toBe("docs");
    const skills = join(dir.path, "skills", first.id);
    expect(readFileSync(join(skills, "style.md"), "utf8")).toBe("# Style\nBe brief.");
    const second = engine.deployWorkflow({
      program: program(
        { slug: "docs", description: "Summarise docs", triggers: [{ kind: "manual" }] },
        'output("v2");',
      ),
      skills: { style: "# Style v2" },
    });
    expect(second.id).toBe(first.id);
    expect(second.createdAt).toBe(first.createdAt);
    expect(second.updatedAt).toBeGreaterThanOrEqual(first.updatedAt);
    expect(second.program).toContain('"v2"');
    expect(existsSync(join(skills, "tone.md"))).toBe(false);
    engine.deployWorkflow({ program: second.program });
    expect(existsSync(skills)).toBe(false);
  });

  it("rejects non-literal meta, bad crons, bad timezones, bad catch_up and bad skill names; stores nothing", () => {
    const cases: {
      program: string;
      config?: Record<string, never>;
      skills?: Record<string, string>;
    }[] = [
      {
        program: 'const slug = "x";\nexport const meta = { slug, triggers: [{ kind: "manual" }] };',
      },
      ...["* * * *", "60 * * * *", "0 0 30 2 *"].map((expr) => ({
        program: program({ slug: "cron-bad", triggers: [{ kind: "cron", expr }] }, ""),
      })),
      {
        program: program(
          {
            slug: "tz-bad",
            triggers: [{ kind: "cron", expr: "0 9 * * *", timezone: "Not/A_Zone" }],
          },
          "",
        ),
      },
      {
        program: program(manualMeta("catchup-bad"), ""),
        config: { catch_up: "sometimes" } as unknown as Record<string, never>,
      },
      { program: program(manualMeta("skill-bad"), ""), skills: { "bad name!": "x" } },
    ];
    for (const args of cases) {
      expect(() => engine.deployWorkflow(args)).toThrow(
        expect.objectContaining({ code: "VALIDATION" }),
      );
    }
    expect(engine.store.listWorkflows()).toEqual([]);
  });

  it("logs one notice naming ignored platform-extension fields", () => {
    engine.deployWorkflow({
      program: program(
        manualMeta("platform", { container: { image: "node:24" }, egress: { level: "full" } }),
        "",
      ),
    });
    const notices = logs.filter((line) => line.includes("platform"));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("container");
    expect(notices[0]).toContain("egress");
  });
});

describe("startRun and runOnce", () => {
  it("rejects unknown slugs and non-JSON input; dedupes by idempotencyKey", async () => {
    expect(() => engine.startRun("ghost")).toThrow(
      expect.objectContaining({
        code: "NOT_FOUND",
        message: 'Workflow "ghost" is not deployed on this engine.',
      }),
    );
    engine.deployWorkflow({ program: program(manualMeta("echo"), "output(input);") });
    expect(() => engine.startRun("echo", { input: { f: () => 1 } as never })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
    expect(() => engine.startRun("echo", { input: Number.NaN as never })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
    const a = engine.startRun("echo", { input: 1, idempotencyKey: "once" });
    const b = engine.startRun("echo", { input: 2, idempotencyKey: "once" });
    expect(b.id).toBe(a.id);
    const done = await engine.waitForRun(a.id);
    expect(done.output).toBe(1);
    expect(statuses(engine, a.id).filter((status) => status === "queued")).toHaveLength(1);
    await expect(engine.waitForRun("01UNKNOWN00000000000000000")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "Unknown run: 01UNKNOWN00000000000000000",
    });
  });

  it("runOnce deploys, starts and resolves with the terminal row", async () => {
    const run = await engine.runOnce({
      program: program(manualMeta("dev"), "output({ echoed: input });"),
      input: { from: "dev" },
    });
    expect(run.status).toBe("completed");
    expect(run.output).toEqual({ echoed: { from: "dev" } });
    const failed = await engine.runOnce({
      program: program(manualMeta("dev"), 'throw new Error("x");'),
    });
    expect(failed.status).toBe("failed");
  });

  it("authorizeMcpServer validates its arguments and translates MCP errors", async () => {
    await expect(
      engine.authorizeMcpServer("", { onAuthorizationUrl: () => undefined }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(
      engine.authorizeMcpServer("https://mcp.example.com", {} as never),
    ).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(
      engine.authorizeMcpServer("not a url", { onAuthorizationUrl: () => undefined }),
    ).rejects.toMatchObject({ code: "VALIDATION" });
  });

  it("promise methods reject instead of throwing", async () => {
    const waiting = engine.waitForRun(42 as unknown as string);
    await expect(waiting).rejects.toMatchObject({ code: "VALIDATION" });
    await expect(engine.runOnce({ program: "nope" })).rejects.toMatchObject({ code: "VALIDATION" });
  });
});

describe("warm pool (warmPoolSize)", () => {
  it("serves each run from its own pre-spawned process with env, cwd and secrets applied", async () => {
    const { engine: pooled } = makeEngine(join(dir.path, "pooled"), {
      warmPoolSize: 2,
      env: { API_KEY: "pooled-secret" },
    });
    extra.push(pooled);
    pooled.deployWorkflow({
      program: program(
        manualMeta("where", {
          permissions: { secrets: [{ name: "API_KEY" }] },
          env: { MY_KEY: "${{ secrets.API_KEY }}", PLAIN: "plain" },
        }),
        "output({ pid: process.pid, cwd: process.cwd(), key: process.env.MY_KEY === 'pooled-secret', plain: process.env.PLAIN });",
      ),
    });
    const runs = [];
    for (let index = 0; index < 3; index += 1) {
      runs.push(await pooled.waitForRun(pooled.startRun("where").id));
    }
    const outputs = runs.map((run) => run.output as Record<string, unknown>);
    expect(new Set(outputs.map((output) => output["pid"])).size).toBe(3);
    runs.forEach((run, index) => {
      expect(outputs[index]).toMatchObject({
        cwd: join(dir.path, "pooled", "runs", run.id, "workspace"),
        key: true,
        plain: "plain",
      });
    });
  });
});

describe("deployWorkflowsFromDir", () => {
  it("deploys .mjs, ignores other files, reports broken entries, and is a no-op when unchanged", async () => {
    const workflows = join(dir.path, "workflows");
    mkdirSync(workflows);
    writeFileSync(join(workflows, "hello.mjs"), program(manualMeta("hello"), 'output("hi");'));
    writeFileSync(join(workflows, "notes.txt"), "not a workflow");
    writeFileSync(join(workflows, "broken.js"), "export const meta = ;");
    writeFileSync(join(workflows, "typed.ts"), program(manualMeta("typed"), ""));
    writeFileSync(join(workflows, "old.tgz"), "");
    writeFileSync(join(workflows, "_draft.mjs"), program(manualMeta("draft"), ""));
    writeFileSync(join(workflows, "twin.mjs"), program(manualMeta("hello"), 'output("twin");'));
    mkdirSync(join(workflows, "pkg", "skills"), { recursive: true });
    writeFileSync(
      join(workflows, "pkg", "index.mjs"),
      program(manualMeta("pkg"), 'output("pkg");'),
    );
    writeFileSync(join(workflows, "pkg", "skills", "guide.md"), "# Guide");
    writeFileSync(join(workflows, "pkg", "promenade.config.json"), '{ "catch_up": "once" }');
    mkdirSync(join(workflows, "empty"));

    const first = await engine.deployWorkflowsFromDir(workflows);
    expect(first.deployed).toEqual([
      { file: join(workflows, "hello.mjs"), slug: "hello", changed: true },
    ]);
    const skippedFiles = first.skipped.map((entry) => entry.file);
    expect(skippedFiles).toEqual([
      join(workflows, "broken.js"),
      `${join(workflows, "empty")}/`,
      join(workflows, "old.tgz"),
      `${join(workflows, "pkg")}/`,
      join(workflows, "twin.mjs"),
      join(workflows, "typed.ts"),
    ]);
    expect(first.skipped.find((entry) => entry.file.endsWith("twin.mjs"))?.reason).toContain(
      'slug "hello" is already deployed from',
    );
    expect(logs.some((line) => line.startsWith(`skipped ${join(workflows, "broken.js")}:`))).toBe(
      true,
    );

    const bundle = (file: string): Promise<string> => Promise.resolve(readFileSync(file, "utf8"));
    const second = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(second.deployed).toEqual([
      { file: join(workflows, "hello.mjs"), slug: "hello", changed: false },
      { file: `${join(workflows, "pkg")}/`, slug: "pkg", changed: true },
      { file: join(workflows, "typed.ts"), slug: "typed", changed: true },
    ]);
    const pkg = engine.store.getWorkflow("pkg");
    expect(pkg?.config).toEqual({ catch_up: "once" });
    expect(readFileSync(join(dir.path, "skills", pkg!.id, "guide.md"), "utf8")).toBe("# Guide");
    const updatedAt = engine.store.getWorkflow("hello")?.updatedAt;
    const third = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(third.deployed.every((entry) => !entry.changed)).toBe(true);
    expect(engine.store.getWorkflow("hello")?.updatedAt).toBe(updatedAt);
    expect(await engine.deployWorkflowsFromDir(join(dir.path, "missing"))).toEqual({
      deployed: [],
      skipped: [],
    });
  });
});

/** A clock the test advances by hand; sleeps are real timers so run processes still progress. */
function manualClock(startMs: number): Clock & { advance(ms: number): void } {
  const manual = createManualClock(startMs);
  return {
    now: () => manual.now(),
    sleep: (ms, signal) => wallClock.sleep(ms, signal),
    advance: (ms) => manual.advance(ms),
  };
}

describe("scheduler through the facade", () => {
  const T0 = Date.UTC(2026, 5, 10, 12, 0, 0);

  it("fires a minute cron exactly once per boundary", async () => {
    const clock = manualClock(T0);
    const { engine: cron } = makeEngine(join(dir.path, "cron"), { clock });
    extra.push(cron);
    const workflow = cron.deployWorkflow({
      program: program(
        { slug: "every-minute", triggers: [{ kind: "cron", expr: "* * * * *" }] },
        "output(1);",
      ),
    });
    cron.tick();
    expect(cron.store.listRuns()).toHaveLength(0);
    clock.advance(60_000);
    cron.tick();
    cron.tick();
    const runs = cron.store.listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.triggerKind).toBe("cron");
    clock.advance(180_000);
    cron.tick();
    expect(cron.store.listRuns()).toHaveLength(4);
    for (const run of cron.store.listRuns()) await cron.waitForRun(run.id);
    cron.close();
    const store = openStore({ path: join(dir.path, "cron", "promenade.db") });
    try {
      expect(store.lastCronFire(workflow.id, 0)).toBe(T0 + 240_000);
    } finally {
      store.close();
    }
  });

  it("catch-up after downtime: skip by default, once when configured", async () => {
    for (const policy of ["skip", "once"] as const) {
      const dataDir = join(dir.path, `catchup-${policy}`);
      const clock = manualClock(T0);
      const first = makeEngine(dataDir, { clock }).engine;
      first.deployWorkflow({
        program: program(
          { slug: "hourly", triggers: [{ kind: "cron", expr: "* * * * *" }] },
          "output(1);",
        ),
        ...(policy === "once" ? { config: { catch_up: "once" } } : {}),
      });
      first.tick();
      clock.advance(60_000);
      first.tick();
      await first.waitForRun(first.store.listRuns()[0]!.id);
      await first.closeGracefully();
      clock.advance(2 * 3_600_000 + 30_000);
      const { engine: second, logs: secondLogs } = makeEngine(dataDir, { clock });
      extra.push(second);
      second.tick();
      const cronRuns = second.store.listRuns();
      const notice = secondLogs.find((line) => line.includes("missed")) ?? "";
      expect(notice).toContain("120");
      if (policy === "skip") {
        expect(cronRuns).toHaveLength(1);
        expect(notice).toContain("skip");
      } else {
        expect(cronRuns).toHaveLength(2);
        expect(notice).toContain("once");
        const caughtUp = await second.waitForRun(cronRuns[0]!.id);
        expect(caughtUp.triggerKind).toBe("cron");
        expect(statuses(second, caughtUp.id)).toEqual([
          "queued",
          "pending",
          "running",
          "completed",
        ]);
        second.tick();
        expect(second.store.listRuns()).toHaveLength(2);
      }
    }
  });

  it("serial gates dispatch and drains without tick; unlimited overlaps", async () => {
    engine.deployWorkflow({
      program: program(
        manualMeta("serial", { concurrency: { mode: "serial" } }),
        "await sleep(500);",
      ),
    });
    engine.deployWorkflow({
      program: program(
        manualMeta("keyed", { concurrency: { mode: "serial_by_key", key: "k" } }),
        "await sleep(200);",
      ),
    });
    engine.deployWorkflow({ program: program(manualMeta("free"), "await sleep(500);") });
    const first = engine.startRun("serial");
    const second = engine.startRun("serial");
    expect(engine.store.getRun(second.id)?.status).toBe("queued");
    const doneFirst = await engine.waitForRun(first.id);
    const doneSecond = await engine.waitForRun(second.id);
    expect(doneSecond.startedAt!).toBeGreaterThanOrEqual(doneFirst.endedAt!);

    const keyed = [engine.startRun("keyed"), engine.startRun("keyed"), engine.startRun("keyed")];
    expect(keyed.slice(1).map((run) => engine.store.getRun(run.id)?.status)).toEqual([
      "queued",
      "queued",
    ]);
    const keyedDone = await Promise.all(keyed.map((run) => engine.waitForRun(run.id)));
    for (let index = 1; index < keyedDone.length; index += 1) {
      expect(keyedDone[index]!.startedAt!).toBeGreaterThanOrEqual(keyedDone[index - 1]!.endedAt!);
    }

    const a = engine.startRun("free");
    const b = engine.startRun("free");
    await waitForStatus(engine, a.id, "running");
    await waitForStatus(engine, b.id, "running");
    expect(engine.store.getRun(a.id)?.status).toBe("running");
    await Promise.all([engine.waitForRun(a.id), engine.waitForRun(b.id)]);
  });
});

/**
 * What programs see through the host, at the facade: workflows.call/run, secrets and env, workspace
 * persistence and artifacts, duration budgets, and the SDK behaviour a program observes through the
 * composed engine (including a Boardwalk program importing `@boardwalk-labs/workflow` with legacy
 * spellings).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { wallClock } from "@promenade/workflow/clock";
import type { Engine, RunRow } from "../src/index.ts";
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

beforeEach(() => {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path, {
    env: { GH_TOKEN: "tok-123", API_KEY: "api-secret-value" },
  }));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function deploy(slug: string, body: string, extra: Record<string, unknown> = {}): void {
  engine.deployWorkflow({ program: program(manualMeta(slug, extra), body) });
}

async function run(slug: string, input?: unknown): Promise<RunRow> {
  const started = engine.startRun(slug, input === undefined ? {} : { input: input as never });
  return engine.waitForRun(started.id);
}

describe("workflows.call / workflows.run", () => {
  it("call returns the child's output", async () => {
    deploy("double", "output({ doubled: input.n * 2 });");
    deploy("caller", 'output(await workflows.call("double", { n: 21 }));');
    const caller = await run("caller");
    expect(caller.output).toEqual({ doubled: 42 });
    // The child has its own run row and its own status stream, starting at queued.
    const [child] = engine.store.listRuns({ parentRunId: caller.id });
    expect(child?.triggerKind).toBe("manual");
    expect(statuses(engine, child!.id)).toEqual(["queued", "pending", "running", "completed"]);
  });

  it("a parent crash after the call re-attaches: the child executes once", async () => {
    const sideEffects = join(dir.path, "side-effects.txt");
    deploy(
      "appender",
      `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(sideEffects)}, "x");\noutput("appended");`,
    );
    deploy(
      "parent",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'const got = await workflows.call("appender", { same: true });',
        'if (!existsSync("crashed")) { writeFileSync("crashed", ""); process.exit(1); }',
        "output({ got });",
      ].join("\n"),
    );
    const parent = await run("parent");
    expect(parent.status).toBe("completed");
    expect(parent.restarts).toBe(1);
    expect(parent.output).toEqual({ got: "appended" });
    expect(readFileSync(sideEffects, "utf8")).toBe("x");
    const children = engine.store.listRuns({ parentRunId: parent.id });
    expect(children).toHaveLength(1);
    expect(children[0]?.status).toBe("completed");
    expect(children[0]?.triggerKind).toBe("manual");
  });

  it("run returns the child id without waiting; the child completes later", async () => {
    deploy("slow-child", 'await sleep(1200);\noutput("late");');
    deploy("spawner", 'output(await workflows.run("slow-child", {}));');
    const parent = await run("spawner");
    expect(parent.status).toBe("completed");
    const childId = parent.output as string;
    const child = engine.store.getRun(childId);
    expect(child?.parentRunId).toBe(parent.id);
    expect(["queued", "pending", "running"]).toContain(child?.status);
    const done = await engine.waitForRun(childId);
    expect(done.output).toBe("late");
  });

  it("not deployed → NOT_FOUND; failed child → PROGRAM_ERROR; cancelled child → CANCELLED", async () => {
    deploy("orphan-caller", 'await workflows.call("not-deployed");');
    const missing = await run("orphan-caller");
    expect(missing.status).toBe("failed");
    expect(missing.error?.code).toBe("NOT_FOUND");

    deploy("failing-child", 'throw new Error("child exploded");');
    deploy(
      "catcher",
      'try { await workflows.call("failing-child"); } catch (error) { output({ code: error.code, message: error.message }); }',
    );
    const failed = await run("catcher");
    expect(failed.output).toMatchObject({ code: "PROGRAM_ERROR" });
    expect((failed.output as { message: string }).message).toContain("child exploded");

    deploy("sleepy-child", "await sleep(60_000);");
    deploy(
      "cancel-catcher",
      'try { await workflows.call("sleepy-child"); } catch (error) { output({ code: error.code }); }',
    );
    const parentId = engine.startRun("cancel-catcher").id;
    let childId: string | undefined;
    while (childId === undefined) {
      childId = engine.store.listRuns({ parentRunId: parentId })[0]?.id;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitForStatus(engine, childId, "running");
    await engine.cancelRun(childId);
    const parent = await engine.waitForRun(parentId);
    expect(parent.output).toEqual({ code: "CANCELLED" });
  });

  it("the default idempotency key is 64 hex chars and ignores key order", async () => {
    deploy("echo", "output(input);");
    deploy(
      "twice",
      [
        'const a = await workflows.call("echo", { x: 1, y: 2 });',
        'const b = await workflows.call("echo", { y: 2, x: 1 });',
        'const c = await workflows.call("echo", { x: 1, y: 3 });',
        "output([a, b, c]);",
      ].join("\n"),
    );
    const parent = await run("twice");
    expect(parent.status).toBe("completed");
    const children = engine.store.listRuns({ parentRunId: parent.id, order: "oldest" });
    expect(children).toHaveLength(2);
    for (const child of children) expect(child.idempotencyKey).toMatch(/^[0-9a-f]{64}$/);
    expect(children[0]?.idempotencyKey).not.toBe(children[1]?.idempotencyKey);
  });
});

describe("secrets and environment", () => {
  it("secrets.get works with permissions.secrets and with legacy top-level secrets", async () => {
    deploy("modern", 'output((await secrets.get("GH_TOKEN")).length);', {
      permissions: { secrets: [{ name: "GH_TOKEN" }] },
    });
    engine.deployWorkflow({
      program: program(
        { name: "legacy", secrets: [{ name: "GH_TOKEN" }], triggers: [{ kind: "manual" }] },
        'output((await secrets.get("GH_TOKEN")).length);',
      ),
    });
    expect((await run("modern")).output).toBe(7);
    expect((await run("legacy")).output).toBe(7);
  });

  it("undeclared → SECRET_UNDECLARED; declared but unset → SECRET_MISSING naming envLabel", async () => {
    await engine.closeGracefully();
    ({ engine } = makeEngine(dir.path, { envLabel: "the test .env file", env: {} }));
    deploy("undeclared", 'await secrets.get("NOPE");');
    deploy("unset", 'await secrets.get("MISSING_ONE");', {
      permissions: { secrets: [{ name: "MISSING_ONE" }] },
    });
    const undeclared = await run("undeclared");
    expect(undeclared.error?.code).toBe("SECRET_UNDECLARED");
    const unset = await run("unset");
    expect(unset.error?.code).toBe("SECRET_MISSING");
    expect(unset.error?.hint).toContain("the test .env file");
  });

  it("a secret value in an error message is redacted everywhere", async () => {
    deploy(
      "leaky",
      'const token = await secrets.get("GH_TOKEN");\nthrow new Error(`request failed with ${token}`);',
      { permissions: { secrets: [{ name: "GH_TOKEN" }] } },
    );
    const failed = await run("leaky");
    expect(failed.status).toBe("failed");
    expect(failed.error?.message).toBe("request failed with [redacted:GH_TOKEN]");
    expect(JSON.stringify(engine.store.listEvents(failed.id))).not.toContain("tok-123");
  });

  it("manifest env interpolates declared secrets and copies literals", async () => {
    // The value is compared in the program: a secret value never reaches the stored output.
    deploy(
      "env-reader",
      "output({ key: process.env.MY_KEY === 'api-secret-value', plain: process.env.PLAIN });",
      {
        permissions: { secrets: [{ name: "API_KEY" }] },
        env: { MY_KEY: "${{ secrets.API_KEY }}", PLAIN: "plain-value" },
      },
    );
    expect((await run("env-reader")).output).toEqual({
      key: true,
      plain: "plain-value",
    });
    deploy("env-missing", "output(1);", {
      permissions: { secrets: [{ name: "UNSET_KEY" }] },
      env: { MY_KEY: "${{ secrets.UNSET_KEY }}" },
    });
    const missing = await run("env-missing");
    expect(missing.error?.code).toBe("SECRET_MISSING");
    expect(missing.restarts).toBe(0);
    expect(() =>
      deploy("env-undeclared", "output(1);", { env: { MY_KEY: "${{ secrets.API_KEY }}" } }),
    ).toThrow(
      expect.objectContaining({
        code: "VALIDATION",
        message: expect.stringContaining("env.MY_KEY"),
      }),
    );
  });
});

describe("workspace, artifacts, budgets", () => {
  const STATEFUL = [
    'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
    'const previous = existsSync("state/value.txt") ? readFileSync("state/value.txt", "utf8") : null;',
    'mkdirSync("state", { recursive: true });',
    'writeFileSync("state/value.txt", input.value);',
    'if (input.fail) throw new Error("failing on purpose");',
    "output(previous);",
  ].join("\n");

  it("persists declared dirs across runs, only on success", async () => {
    deploy("stateful", STATEFUL, { workspace: { persist: ["state"] } });
    expect((await run("stateful", { value: "alpha" })).output).toBeNull();
    expect((await run("stateful", { value: "beta" })).output).toBe("alpha");
    const failed = await run("stateful", { value: "ignored", fail: true });
    expect(failed.status).toBe("failed");
    expect((await run("stateful", { value: "gamma" })).output).toBe("beta");
  });

  it("persist: true round-trips the workspace root", async () => {
    deploy(
      "rooted",
      'import { existsSync, readFileSync, writeFileSync } from "node:fs";\nconst before = existsSync("root.txt") ? readFileSync("root.txt", "utf8") : null;\nwriteFileSync("root.txt", input.value);\noutput(before);',
      { workspace: { persist: true } },
    );
    await run("rooted", { value: "one" });
    expect((await run("rooted", { value: "two" })).output).toBe("one");
  });

  it("a crash-restarted pass sees the crashed pass's writes, not a re-hydrated copy", async () => {
    deploy(
      "rehydrate",
      [
        'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
        'mkdirSync("state", { recursive: true });',
        'if (input.seed) { writeFileSync("state/v.txt", "A"); output("seeded"); }',
        'else if (!existsSync("crashed")) { writeFileSync("crashed", ""); writeFileSync("state/v.txt", "B"); process.exit(9); }',
        'else output(readFileSync("state/v.txt", "utf8"));',
      ].join("\n"),
      { workspace: { persist: ["state"] } },
    );
    await run("rehydrate", { seed: true });
    const second = await run("rehydrate", { seed: false });
    expect(second.restarts).toBe(1);
    expect(second.output).toBe("B");
  });

  it("artifacts.write stores a file and a row; bad names are VALIDATION in the program", async () => {
    deploy(
      "reporter",
      [
        'const ref = await artifacts.write("report.txt", "text/plain", "line one");',
        'let bad = null; try { await artifacts.write("../x", "text/plain", "nope"); } catch (error) { bad = error.code; }',
        "output({ name: ref.name, url: ref.url, bad });",
      ].join("\n"),
    );
    const done = await run("reporter");
    expect(done.output).toMatchObject({ name: "report.txt", bad: "VALIDATION" });
    expect((done.output as { url: string }).url).toMatch(/^file:\/\//);
    const rows = engine.store.listArtifacts(done.id);
    expect(rows).toHaveLength(1);
    expect(readFileSync(rows[0]!.path, "utf8")).toBe("line one");
    expect(rows[0]!.path.startsWith(engine.artifactsDir(done.id))).toBe(true);
  });

  it("max_duration_seconds ends a sleeping run BUDGET_EXCEEDED without waiting", async () => {
    deploy("too-slow", "await sleep(30_000);", { budget: { max_duration_seconds: 1 } });
    const done = await run("too-slow");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.error?.message).toContain("max_duration_seconds");
    expect(statuses(engine, done.id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("deadline_seconds ends a sleeping run BUDGET_EXCEEDED without waiting", async () => {
    deploy("past-deadline", "await sleep(10_000);", { budget: { deadline_seconds: 1 } });
    const done = await run("past-deadline");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.error?.message).toContain("budget.deadline_seconds (1)");
    expect(statuses(engine, done.id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("with both wall-clock budgets set, the sooner one ends the run and is named", async () => {
    deploy("deadline-sooner", "await sleep(10_000);", {
      budget: { max_duration_seconds: 60, deadline_seconds: 1 },
    });
    deploy("duration-sooner", "await sleep(10_000);", {
      budget: { max_duration_seconds: 1, deadline_seconds: 60 },
    });
    const [deadline, duration] = await Promise.all([
      run("deadline-sooner"),
      run("duration-sooner"),
    ]);
    expect(deadline.error?.code).toBe("BUDGET_EXCEEDED");
    expect(deadline.error?.message).toContain("budget.deadline_seconds (1)");
    expect(deadline.error?.message).not.toContain("max_duration_seconds");
    expect(duration.error?.code).toBe("BUDGET_EXCEEDED");
    expect(duration.error?.message).toContain("budget.max_duration_seconds (1)");
    expect(duration.error?.message).not.toContain("deadline_seconds");
  });

  it("deadline_seconds counts the time between a crash and the restart", async () => {
    // The engine's clock jumps 59 s ahead once the first pass has crashed (standing for engine
    // downtime): the deadline measured from the first start leaves the second pass about a
    // second. Nothing depends on how fast this machine starts a process.
    const crashed = join(dir.path, "crashed-deadline");
    await engine.closeGracefully({ childGraceMs: 500 });
    ({ engine } = makeEngine(dir.path, {
      clock: { ...wallClock, now: () => Date.now() + (existsSync(crashed) ? 59_000 : 0) },
    }));
    deploy(
      "deadline-crasher",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        `if (!existsSync(${JSON.stringify(crashed)})) { writeFileSync(${JSON.stringify(crashed)}, ""); process.exit(2); }`,
        "await sleep(600_000);",
        'output("too late");',
      ].join("\n"),
      { budget: { deadline_seconds: 60 } },
    );
    const done = await run("deadline-crasher");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.error?.message).toContain("budget.deadline_seconds (60)");
    expect(done.restarts).toBe(1);
  });

  it("the duration deadline spans crash restarts", async () => {
    // The engine's clock jumps 59 s ahead once the first pass has crashed: a deadline kept across
    // the restart leaves the second pass about a second, one renewed per pass would leave it 60 s.
    // Nothing depends on how fast this machine starts a process.
    const crashed = join(dir.path, "crashed");
    await engine.closeGracefully({ childGraceMs: 500 });
    ({ engine } = makeEngine(dir.path, {
      clock: { ...wallClock, now: () => Date.now() + (existsSync(crashed) ? 59_000 : 0) },
    }));
    deploy(
      "slow-crasher",
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        `if (!existsSync(${JSON.stringify(crashed)})) { writeFileSync(${JSON.stringify(crashed)}, ""); process.exit(2); }`,
        "await sleep(600_000);",
        'output("too late");',
      ].join("\n"),
      { budget: { max_duration_seconds: 60 } },
    );
    const done = await run("slow-crasher");
    expect(done.error?.code).toBe("BUDGET_EXCEEDED");
    expect(done.restarts).toBe(1);
  });
});

describe("SDK behaviour against the composed engine", () => {
  it("echo events and verdict-then-throw", async () => {
    deploy("echo", "output({ echoed: input });");
    const echoed = await run("echo", { n: 7 });
    expect(echoed.output).toEqual({ echoed: { n: 7 } });
    expect(statuses(engine, echoed.id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(cursorsIncrease(engine, echoed.id)).toBe(true);
    deploy("verdict", 'output({ healthy: false });\nthrow new Error("unhealthy verdict");');
    const verdict = await run("verdict");
    expect(verdict.output).toEqual({ healthy: false });
    const last = engine.store.listEvents(verdict.id).at(-1)?.event;
    expect(last).toMatchObject({
      kind: "run_status",
      status: "failed",
      error: { code: "PROGRAM_ERROR" },
    });
    expect(last?.kind === "run_status" ? last.error?.message : "").toContain("unhealthy verdict");
    expect(kinds(engine, verdict.id).slice(-2)).toEqual(["output", "run_status"]);
  });

  it("a Boardwalk program (legacy import, name, secrets, Phase) runs like the Promenade one", async () => {
    const body =
      'Phase("fetch");\nconst token = await secrets.get("GH_TOKEN");\noutput({ length: token.length, input });';
    engine.deployWorkflow({
      program: program(
        { name: "bw-legacy", secrets: [{ name: "GH_TOKEN" }], triggers: [{ kind: "manual" }] },
        body,
        { sdk: "@boardwalk-labs/workflow", names: ["Phase", "secrets", "output", "input"] },
      ),
    });
    engine.deployWorkflow({
      program: program(
        {
          slug: "pm-modern",
          permissions: { secrets: [{ name: "GH_TOKEN" }] },
          triggers: [{ kind: "manual" }],
        },
        body.replace("Phase(", "phase("),
        { names: ["phase", "secrets", "output", "input"] },
      ),
    });
    const legacy = await run("bw-legacy", { a: 1 });
    const modern = await run("pm-modern", { a: 1 });
    expect(legacy.status).toBe("completed");
    expect(legacy.output).toEqual(modern.output);
    expect(kinds(engine, legacy.id)).toEqual(kinds(engine, modern.id));
    expect(statuses(engine, legacy.id)).toEqual(statuses(engine, modern.id));
    const manifest = engine.store.getWorkflow("bw-legacy")?.manifest as Record<string, unknown>;
    expect(manifest["slug"]).toBe("bw-legacy");
    expect(manifest).not.toHaveProperty("name");
    expect(manifest).not.toHaveProperty("secrets");
    expect(engine.store.getWorkflow("bw-legacy")?.name).toBe("bw-legacy");
  });
});

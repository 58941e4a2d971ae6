/**
 * Engine restart and recovery: a run interrupted by `close()` resumes at the next boot or at
 * `waitForRun`; a closed engine refuses everything; deadlines and `cancelling` survive a
 * restart, while engine downtime never counts toward `max_duration_seconds`. (The SIGKILL test is kill.integration.test.ts.) What breaks if this fails: runs lost
 * or double-ended after an engine restart.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { wallClock } from "@promenade/workflow/clock";
import type { Engine } from "../src/index.ts";
import {
  cursorsIncrease,
  makeEngine,
  manualMeta,
  program,
  statuses,
  tempDir,
  waitForStatus,
} from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function open(overrides: Parameters<typeof makeEngine>[1] = {}): Engine {
  const { engine } = makeEngine(dir.path, overrides);
  engines.push(engine);
  return engine;
}

const SLEEPER = program(manualMeta("sleeper"), 'await sleep(3000);\noutput("slept");');

/**
 * Engine A runs `slug` (with `budget`) until its first pass has really started — its side effect
 * is written: the file exists an instant before its byte does — then stops gracefully. Returns
 * the run and the file each pass appends one "x" to.
 */
async function firstPassThenStop(
  slug: string,
  budget: Record<string, number>,
): Promise<{ id: string; passes: string }> {
  const a = open();
  a.deployWorkflow({
    program: program(
      manualMeta(slug, { budget }),
      'import { appendFileSync } from "node:fs";\nappendFileSync("passes.txt", "x");\nawait sleep(600_000);',
    ),
  });
  const { id } = a.startRun(slug);
  await waitForStatus(a, id, "running");
  const passes = join(dir.path, "runs", id, "workspace", "passes.txt");
  while (!existsSync(passes) || readFileSync(passes, "utf8") !== "x") {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await a.closeGracefully({ childGraceMs: 200 });
  return { id, passes };
}

describe("engine restart", () => {
  it("a run interrupted by close() is resumed by the next engine's start()", async () => {
    const a = open();
    a.deployWorkflow({ program: SLEEPER });
    const { id } = a.startRun("sleeper");
    const running = await waitForStatus(a, id, "running");
    a.close();
    const b = open();
    const boot = b.start();
    expect(boot.resumed).toContain(id);
    const run = await b.waitForRun(id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("slept");
    expect(run.restarts).toBe(0);
    expect(run.startedAt).toBe(running.startedAt);
    expect(statuses(b, id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
    expect(cursorsIncrease(b, id)).toBe(true);
  });

  it("waitForRun alone recovers an orphan without start()", async () => {
    const a = open();
    a.deployWorkflow({ program: SLEEPER });
    const { id } = a.startRun("sleeper");
    await waitForStatus(a, id, "running");
    a.close();
    const b = open();
    const run = await b.waitForRun(id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("slept");
    expect(statuses(b, id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
  });

  it("after close every method fails INTERNAL 'closed'; pending waits reject; start() is idempotent", async () => {
    const a = open();
    a.deployWorkflow({ program: SLEEPER });
    expect(a.start()).toEqual({ resumed: [], cancelled: [] });
    expect(a.start()).toEqual({ resumed: [], cancelled: [] });
    const { id } = a.startRun("sleeper");
    const pending = a.waitForRun(id);
    a.close();
    await expect(pending).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("closed"),
    });
    expect(() => a.startRun("sleeper")).toThrow(expect.objectContaining({ code: "INTERNAL" }));
    expect(() => a.startRun("sleeper")).toThrow(/closed/);
    await expect(a.waitForRun(id)).rejects.toMatchObject({
      code: "INTERNAL",
      message: expect.stringContaining("closed"),
    });
    await expect(a.cancelRun(id)).rejects.toMatchObject({ code: "INTERNAL" });
    expect(() => a.store.getRun(id)).toThrow(/closed/);
    expect(() => a.ping()).toThrow(/closed/);
    expect(() => a.tick()).toThrow(/closed/);
    expect(() => a.deployWorkflow({ program: SLEEPER })).toThrow(/closed/);
    a.close();
  });

  it("a recovered run whose deadline_seconds already passed fails BUDGET_EXCEEDED without a spawn", async () => {
    // Engine A's deadline is far away, so the first pass always starts however slow the machine;
    // engine B's clock runs two minutes ahead, so at its boot the deadline has passed.
    const { id, passes } = await firstPassThenStop("deadline", { deadline_seconds: 60 });
    const b = open({ clock: { ...wallClock, now: () => Date.now() + 120_000 } });
    const run = await b.waitForRun(id);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("BUDGET_EXCEEDED");
    expect(run.error?.message).toContain("budget.deadline_seconds (60)");
    expect(statuses(b, id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "failed",
    ]);
    expect(readFileSync(passes, "utf8")).toBe("x");
  });

  it("engine downtime does not count toward max_duration_seconds: the recovered run runs again", async () => {
    // Engine B's clock runs two minutes ahead of A's: on the wall clock the 60 s budget is long
    // gone, but the run's processes were alive for far less, so B starts a new pass.
    const { id, passes } = await firstPassThenStop("active", { max_duration_seconds: 60 });
    const b = open({ clock: { ...wallClock, now: () => Date.now() + 120_000 } });
    expect(b.start().resumed).toEqual([id]);
    while (readFileSync(passes, "utf8") !== "xx") {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await b.cancelRun(id);
    const run = await b.waitForRun(id);
    expect(run.status).toBe("cancelled");
    expect(run.activeMs).toBeLessThan(60_000);
  });

  it("a run left cancelling by a dead engine is finalized cancelled at boot", async () => {
    const a = open({ cancelGraceMs: 60_000 });
    a.deployWorkflow({
      program: program(
        manualMeta("stubborn"),
        'process.on("SIGTERM", () => {});\nawait sleep(60_000);',
      ),
    });
    const { id } = a.startRun("stubborn");
    await waitForStatus(a, id, "running");
    void a.cancelRun(id).catch(() => undefined);
    await waitForStatus(a, id, "cancelling");
    await a.closeGracefully({ childGraceMs: 200 });
    const b = open();
    expect(b.start().cancelled).toContain(id);
    const run = b.store.getRun(id);
    expect(run?.status).toBe("cancelled");
    expect(statuses(b, id)).toEqual(["queued", "pending", "running", "cancelling", "cancelled"]);
    expect(b.store.listEvents(id).at(-1)?.event).toMatchObject({
      kind: "run_status",
      status: "cancelled",
    });
  });
});

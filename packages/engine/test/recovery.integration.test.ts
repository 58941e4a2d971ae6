/**
 * Engine restart and recovery (spec 02 §5.10, §10 checks 32–34) and the durability promise of
 * issue 4: an engine process SIGKILLed at random points mid-run, restarted on the same data dir,
 * resumes and completes the run with strictly increasing cursors, nothing duplicated and nothing
 * lost. What breaks if this fails: runs silently lost or double-ended after an engine crash.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, EventRow, RunRow } from "../src/index.ts";
import {
  SOURCE_CHILD_ENTRY,
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

describe("engine restart", () => {
  it("a run interrupted by close() is resumed by the next engine's start() (check 32)", async () => {
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

  it("waitForRun alone recovers an orphan without start() (check 33)", async () => {
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

  it("after close every method fails INTERNAL 'closed'; pending waits reject; start() is idempotent (check 34)", async () => {
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

  it("a recovered run whose deadline already passed fails BUDGET_EXCEEDED without a spawn (§5.9)", async () => {
    const a = open();
    a.deployWorkflow({
      program: program(
        manualMeta("deadline", { budget: { max_duration_seconds: 1 } }),
        'import { appendFileSync } from "node:fs";\nappendFileSync("passes.txt", "x");\nawait sleep(60_000);',
      ),
    });
    const { id } = a.startRun("deadline");
    await waitForStatus(a, id, "running");
    // Wait until the first pass has really started (its side effect exists), then stop engine A.
    const passes = join(dir.path, "runs", id, "workspace", "passes.txt");
    while (!existsSync(passes)) await new Promise((resolve) => setTimeout(resolve, 10));
    await a.closeGracefully({ childGraceMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const b = open();
    const run = await b.waitForRun(id);
    expect(run.status).toBe("failed");
    expect(run.error?.code).toBe("BUDGET_EXCEEDED");
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

  it("a run left cancelling by a dead engine is finalized cancelled at boot (check 25)", async () => {
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

const ENGINE_PROCESS = fileURLToPath(new URL("./fixtures/engine-process.ts", import.meta.url));

interface EngineProcessResult {
  events: EventRow[];
  done: RunRow | null;
  ready: boolean;
}

/** Run the fixture engine; SIGKILL it `killAfterMs` after it reports ready (or let it finish). */
function runEngineProcess(
  dataDir: string,
  programsPath: string,
  killAfterMs: number | null,
): Promise<EngineProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=@promenade/source", ENGINE_PROCESS, dataDir, SOURCE_CHILD_ENTRY, programsPath],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const result: EngineProcessResult = { events: [], done: null, ready: false };
    let buffer = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf("\n");
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("event ")) result.events.push(JSON.parse(line.slice(6)) as EventRow);
        else if (line.startsWith("done ")) result.done = JSON.parse(line.slice(5)) as RunRow;
        else if (line.startsWith("ready ") && !result.ready) {
          result.ready = true;
          if (killAfterMs !== null) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
        }
        newline = buffer.indexOf("\n");
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (killAfterMs === null && code !== 0) {
        reject(new Error(`engine process exited ${code ?? signal}: ${stderr}`));
        return;
      }
      resolve(result);
    });
  });
}

describe("engine killed with SIGKILL mid-run", () => {
  it("resumes and completes after 20 random kills: cursors increase, nothing duplicated or lost", async () => {
    const programs = [
      program(
        manualMeta("durable"),
        [
          "for (let i = 1; i <= 6; i++) { phase(`before-${i}`); console.log(`line ${i}`); await sleep(30); }",
          'const child = await workflows.call("durable-child", { n: 1 });',
          "for (let i = 1; i <= 6; i++) { phase(`after-${i}`); await sleep(30); }",
          "output({ child });",
        ].join("\n"),
      ),
      program(manualMeta("durable-child"), "await sleep(150);\noutput({ doubled: input.n * 2 });"),
    ];
    const programsPath = join(dir.path, "programs.json");
    writeFileSync(programsPath, JSON.stringify(programs));
    const dataDir = join(dir.path, "data");
    // Deterministic pseudo-random kill points (0–900 ms after boot) so a failure reproduces.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const observed: EventRow[] = [];
    let kills = 0;
    let finished: RunRow | null = null;
    while (kills < 20) {
      const result = await runEngineProcess(dataDir, programsPath, Math.floor(random() * 900));
      observed.push(...result.events);
      if (result.done !== null) {
        // The run finished before this kill landed; the remaining kills hit an idle engine.
        finished = result.done;
      }
      kills += 1;
    }
    const last = await runEngineProcess(dataDir, programsPath, null);
    observed.push(...last.events);
    finished = last.done ?? finished;
    expect(finished?.status).toBe("completed");

    const { engine } = makeEngine(dataDir);
    engines.push(engine);
    const roots = engine.store.listRuns().filter((run) => run.parentRunId === null);
    expect(roots).toHaveLength(1);
    const root = roots[0]!;
    expect(root.status).toBe("completed");
    expect(root.output).toEqual({ child: { doubled: 2 } });
    expect(root.restarts).toBe(0);
    const children = engine.store.listRuns({ parentRunId: root.id });
    expect(children).toHaveLength(1);
    expect(children[0]?.status).toBe("completed");

    for (const run of [root, ...children]) {
      const events = engine.store.listEvents(run.id);
      expect(cursorsIncrease(engine, run.id)).toBe(true);
      const runStatuses = statuses(engine, run.id);
      expect(runStatuses.join(",")).toMatch(/^queued(,pending(,running)?)+,completed$/);
      // Exactly one terminal event, and it is the last one.
      expect(runStatuses.filter((status) => status === "completed")).toHaveLength(1);
      expect(events.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
    }
    // The last pass of the root ran every phase once, in order, in one cursor block.
    const rootEvents = engine.store.listEvents(root.id);
    const lastRunning = rootEvents.findLastIndex(
      (row) => row.event.kind === "run_status" && row.event.status === "running",
    );
    const lastPassPhases = rootEvents
      .slice(lastRunning)
      .flatMap((row) => (row.event.kind === "phase" ? [row.event.name] : []));
    expect(lastPassPhases).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `before-${i + 1}`),
      ...Array.from({ length: 6 }, (_, i) => `after-${i + 1}`),
    ]);
    // Nothing lost: every event an engine published (after its commit) is in the database,
    // unchanged, even though that engine was SIGKILLed later.
    const persisted = new Map<string, unknown>();
    for (const run of [root, ...children]) {
      for (const row of engine.store.listEvents(run.id)) {
        persisted.set(`${row.runId}/${row.cursor}`, row.event);
      }
    }
    expect(observed.length).toBeGreaterThan(0);
    for (const row of observed) {
      expect(persisted.get(`${row.runId}/${row.cursor}`)).toEqual(row.event);
    }
  }, 400_000);
});

/**
 * The durability promise, on both databases: an engine process SIGKILLed at random points
 * mid-run (20 times), restarted on the same database, resumes and completes the run (and the
 * child it calls) with strictly increasing cursors, nothing duplicated, nothing lost and exactly
 * one terminal event per run. What breaks if this fails: runs silently lost or double-ended
 * after an engine crash.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "@promenade/store/testing";
import type { TestDatabase } from "@promenade/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "../src/index.ts";
import type { EventRow, RunRow } from "../src/index.ts";
import { CHILD_ENTRY, manualMeta, program, childProcessEnv, tempDir } from "./helpers.ts";

const ENGINE_PROCESS = fileURLToPath(new URL("./fixtures/engine-process.ts", import.meta.url));

let dir: ReturnType<typeof tempDir>;
let database: TestDatabase | undefined;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  await database?.drop();
  database = undefined;
  dir.cleanup();
});

interface EngineProcessResult {
  events: EventRow[];
  done: RunRow | null;
  ready: boolean;
}

/** Run the fixture engine; SIGKILL it `killAfterMs` after it reports ready (or let it finish). */
function runEngineProcess(
  dataDir: string,
  programsPath: string,
  databaseUrl: string | undefined,
  killAfterMs: number | null,
): Promise<EngineProcessResult> {
  return new Promise((resolve, reject) => {
    const args = [ENGINE_PROCESS, dataDir, programsPath];
    if (databaseUrl !== undefined) args.push(databaseUrl);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
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

const PROGRAMS = [
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

/** Kill the engine 20 times, let it finish, then check the database it left. */
async function killAndCheck(databaseUrl: string | undefined): Promise<void> {
  const programsPath = join(dir.path, "programs.json");
  writeFileSync(programsPath, JSON.stringify(PROGRAMS));
  const dataDir = join(dir.path, "data");
  // Deterministic pseudo-random kill points (0–900 ms after boot) so a failure reproduces.
  let seed = 0x5eed;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const observed: EventRow[] = [];
  let finished: RunRow | null = null;
  for (let kills = 0; kills < 20; kills += 1) {
    const killAfter = Math.floor(random() * 900);
    const result = await runEngineProcess(dataDir, programsPath, databaseUrl, killAfter);
    observed.push(...result.events);
    // The run may finish before a kill lands; the remaining kills then hit an idle engine.
    if (result.done !== null) finished = result.done;
  }
  const last = await runEngineProcess(dataDir, programsPath, databaseUrl, null);
  observed.push(...last.events);
  finished = last.done ?? finished;
  expect(finished?.status).toBe("completed");

  const engine = await Engine.open({
    dataDir,
    childEntryPath: CHILD_ENTRY,
    processEnv: childProcessEnv(),
    log: () => undefined,
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
  });
  engines.push(engine);
  const reads = engine.storeAsync;
  const roots = (await reads.listRuns()).filter((run) => run.parentRunId === null);
  expect(roots).toHaveLength(1);
  const root = roots[0]!;
  expect(root.status).toBe("completed");
  expect(root.output).toEqual({ child: { doubled: 2 } });
  expect(root.restarts).toBe(0);
  const children = await reads.listRuns({ parentRunId: root.id });
  expect(children).toHaveLength(1);
  expect(children[0]?.status).toBe("completed");

  const persisted = new Map<string, unknown>();
  for (const run of [root, ...children]) {
    const events = await reads.listEvents(run.id);
    const cursors = events.map((row) => row.cursor);
    expect(cursors.every((cursor, i) => i === 0 || cursor > cursors[i - 1]!)).toBe(true);
    const statuses = events.flatMap((row) =>
      row.event.kind === "run_status" ? [row.event.status] : [],
    );
    // The root is held `waiting_for_child` while its call waits (then `running` again).
    expect(statuses.join(",")).toMatch(
      /^queued(,pending(,running(,waiting_for_child(,running)?)?)?)+,completed$/,
    );
    // Exactly one terminal event, and it is the last one.
    expect(statuses.filter((status) => status === "completed")).toHaveLength(1);
    expect(events.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
    for (const row of events) persisted.set(`${row.runId}/${row.cursor}`, row.event);
  }
  // The last pass of the root ran every phase once, in order, in one cursor block. A pass opens
  // with `pending` (a `running` also follows the child wait, in the middle of the pass).
  const rootEvents = await reads.listEvents(root.id);
  const lastPass = rootEvents.findLastIndex(
    (row) => row.event.kind === "run_status" && row.event.status === "pending",
  );
  const lastPassPhases = rootEvents
    .slice(lastPass)
    .flatMap((row) => (row.event.kind === "phase" ? [row.event.name] : []));
  expect(lastPassPhases).toEqual([
    ...Array.from({ length: 6 }, (_, i) => `before-${i + 1}`),
    ...Array.from({ length: 6 }, (_, i) => `after-${i + 1}`),
  ]);
  // Nothing lost: every event an engine published (after its commit) is in the database,
  // unchanged, even though that engine was SIGKILLed later.
  expect(observed.length).toBeGreaterThan(0);
  for (const row of observed) {
    expect(persisted.get(`${row.runId}/${row.cursor}`)).toEqual(row.event);
  }
}

describe("engine killed with SIGKILL mid-run", () => {
  it("SQLite: resumes and completes after 20 random kills; cursors increase, nothing duplicated or lost", async () => {
    await killAndCheck(undefined);
  }, 600_000);

  it("PostgreSQL: resumes and completes after 20 random kills; cursors increase, nothing duplicated or lost", async () => {
    database = await createTestDatabase();
    await killAndCheck(database.url);
  }, 600_000);
});

/**
 * The retry policy through the engine, over a real SQLite file and real run processes: bad
 * policies are refused at deploy naming the field; a program failing twice completes on its third
 * pass with both failures recorded; an engine closed during the backoff leaves the retry stored,
 * and the next engine carries it out. What breaks if this fails: a flaky program fails for good,
 * retries forever, or loses its retry across a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
const engines: Engine[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function open(): Engine {
  const { engine } = makeEngine(dir.path);
  engines.push(engine);
  return engine;
}

// Counts its attempts in the run's workspace (kept across passes) and fails the first two.
const FLAKY_BODY = [
  'import { existsSync, readFileSync, writeFileSync } from "node:fs";',
  'const attempt = (existsSync("attempts") ? Number(readFileSync("attempts", "utf8")) : 0) + 1;',
  'writeFileSync("attempts", String(attempt));',
  "if (attempt < 3) throw new Error(`attempt ${attempt} broke`);",
  "output({ attempt });",
].join("\n");

/** Each `run_status` as `status`, `status:reason` and `!CODE` when it carries an error. */
function statuses(engine: Engine, runId: string): string[] {
  return engine.store.listEvents(runId).flatMap((row) => {
    if (row.event.kind !== "run_status") return [];
    const { status, reason, error } = row.event;
    return [
      `${status}${reason === undefined ? "" : `:${reason}`}${error === undefined ? "" : `!${error.code}`}`,
    ];
  });
}

function deployError(engine: Engine, retry: unknown): { code?: string; message: string } {
  try {
    engine.deployWorkflow({ program: program(manualMeta("flaky", { retry }), FLAKY_BODY) });
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error(`expected retry ${JSON.stringify(retry)} to be refused`);
}

describe("retries", () => {
  it("refuses a bad retry policy at deploy, naming the field", () => {
    const engine = open();
    for (const [retry, field] of [
      [{ attempts: 0 }, "retry.attempts"],
      [{ attempts: 1000 }, "retry.attempts"],
      [{ attempts: 3, backoff: { initial_seconds: -1 } }, "retry.backoff.initial_seconds"],
      [{ attempts: 3, backoff: { initial_seconds: 1, factor: 0 } }, "retry.backoff.factor"],
      [
        { attempts: 3, backoff: { initial_seconds: 9, max_seconds: 3 } },
        "retry.backoff.max_seconds",
      ],
      [{ attempts: 3, retry_on: ["CANCELLED"] }, "retry.retry_on.0"],
    ] as const) {
      const error = deployError(engine, retry);
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain(field);
    }
    expect(engine.store.getWorkflow("flaky")).toBeNull();
  });

  it("completes on pass 3 after two failures, each recorded with its error", async () => {
    const engine = open();
    engine.deployWorkflow({
      program: program(
        manualMeta("flaky", { retry: { attempts: 3, backoff: { initial_seconds: 0.05 } } }),
        FLAKY_BODY,
      ),
    });
    const { id } = engine.startRun("flaky");
    const run = await engine.waitForRun(id);
    expect(run).toMatchObject({
      status: "completed",
      output: { attempt: 3 },
      error: null,
      retries: 2,
      retryAt: null,
    });
    expect(statuses(engine, id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "completed",
    ]);
    const failures = engine.store
      .listEvents(id)
      .flatMap((row) =>
        row.event.kind === "run_status" && row.event.error ? [row.event.error.message] : [],
      );
    expect(failures).toEqual([
      expect.stringContaining("attempt 1 broke"),
      expect.stringContaining("attempt 2 broke"),
    ]);
  });

  it("a retry stored before the engine closed is carried out by the next engine", async () => {
    const a = open();
    a.deployWorkflow({
      program: program(
        manualMeta("flaky", { retry: { attempts: 3, backoff: { initial_seconds: 1 } } }),
        FLAKY_BODY,
      ),
    });
    const { id } = a.startRun("flaky");
    // The first attempt failed and its retry is stored (the due time is written before the
    // `pending` that records the failure): the engine goes away during the one-second wait.
    while (!statuses(a, id).includes("pending:retry!PROGRAM_ERROR")) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(a.store.getRun(id)).toMatchObject({ status: "pending", retries: 1 });
    await a.closeGracefully({ childGraceMs: 200 });

    const b = open();
    expect(b.start().resumed).toEqual([id]);
    const run = await b.waitForRun(id);
    expect(run).toMatchObject({ status: "completed", output: { attempt: 3 }, retries: 2 });
    const reasons = statuses(b, id);
    expect(reasons.filter((s) => s === "pending:retry!PROGRAM_ERROR")).toHaveLength(2);
    expect(reasons).not.toContain("pending:engine_restart");
    expect(reasons.at(-1)).toBe("completed");
  });
});

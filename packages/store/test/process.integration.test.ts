/**
 * Real processes against real database files. Kill -9 in the middle of multi-row writes must
 * never leave a database that fails `PRAGMA integrity_check` or holds half of a transaction
 * (a run without its fire record or queued event, a partial event batch, a usage tally without
 * its `turn_ended`, a status without its `run_status` event). A second process opening the same
 * database must be refused with a clear `CONFLICT`, and the lock must vanish with its holder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openStore } from "../src/open.ts";

const children = fileURLToPath(new URL("./children/", import.meta.url));
const STRIDE = 1_000_000;
const BATCH = 5;

let dir: string;
let path: string;
const running = new Set<ChildProcess>();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "promenade-process-"));
  path = join(dir, "promenade.db");
});
afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
  rmSync(dir, { recursive: true, force: true });
});

function start(script: string): ChildProcess {
  const child = spawn(process.execPath, [join(children, script), path], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  return child;
}

/** Resolves with the first stdout line, rejects if the child exits first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const end = out.indexOf("\n");
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.on("exit", (code) =>
      reject(new Error(`child exited ${String(code)} before a line: ${out}${err}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Counts {
  runs: number;
  events: number;
}

/** Every invariant the crash writer's transactions promise; returns table sizes. */
function checkInvariants(): Counts {
  const db = new Database(path);
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    expect(db.pragma("foreign_key_check")).toEqual([]);
    const scalar = (sql: string): number => (db.prepare(sql).pluck().get() as number | null) ?? 0;
    // Killed before the first migration committed: an empty database is the only valid state.
    if (scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'") === 0) {
      expect(scalar("SELECT COUNT(*) FROM sqlite_master")).toBe(0);
      return { runs: 0, events: 0 };
    }
    const runs = scalar("SELECT COUNT(*) FROM runs");
    // Cron fire + run + queued event: all or nothing.
    expect(
      scalar(
        "SELECT COUNT(*) FROM runs r LEFT JOIN cron_fires f ON f.run_id = r.id WHERE f.run_id IS NULL",
      ),
    ).toBe(0);
    expect(scalar("SELECT COUNT(*) FROM cron_fires")).toBe(runs);
    expect(
      scalar(
        "SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = r.id AND e.cursor = 1)",
      ),
    ).toBe(0);
    // Every text_delta block holds the whole batch, seq 1..BATCH.
    const torn = db
      .prepare(
        `SELECT run_id, cursor / ${String(STRIDE)} AS block, COUNT(*) AS n, MIN(json_extract(event, '$.seq')) AS lo,
                MAX(json_extract(event, '$.seq')) AS hi
         FROM run_events WHERE json_extract(event, '$.kind') = 'text_delta'
         GROUP BY run_id, block HAVING n != ${String(BATCH)} OR lo != 1 OR hi != ${String(BATCH)}`,
      )
      .all();
    expect(torn).toEqual([]);
    // Usage tallies match their turn_ended events; status matches its run_status event.
    const mismatched = db
      .prepare(
        `SELECT r.id, r.tokens_in, r.status,
           (SELECT COUNT(*) FROM run_events e WHERE e.run_id = r.id AND json_extract(e.event, '$.kind') = 'turn_ended') AS ended,
           (SELECT COUNT(*) FROM run_events e WHERE e.run_id = r.id AND json_extract(e.event, '$.status') = 'running') AS running
         FROM runs r
         WHERE r.tokens_in != 10 * ended OR r.tokens_out * 10 != r.tokens_in OR (r.status = 'running') != (running = 1)`,
      )
      .all();
    expect(mismatched).toEqual([]);
    return { runs, events: scalar("SELECT COUNT(*) FROM run_events") };
  } finally {
    db.close();
  }
}

describe("kill -9 during multi-row writes", () => {
  it("always reopens intact with no half-written transaction, over many random kills", async () => {
    // Each child loads the built store (~0.15 s idle, several times that on a busy machine).
    const kills = 16;
    let previous: Counts = { runs: 0, events: 0 };
    for (let round = 0; round < kills; round++) {
      const child = start("crash-writer.ts");
      if (round % 5 === 0) {
        // Kill during startup: possibly mid-migration (round 0 creates the schema) or mid-open.
        await sleep(Math.floor(Math.random() * 400));
      } else {
        expect(await firstLine(child)).toMatch(/^ready \d+$/);
        await sleep(5 + Math.floor(Math.random() * 150));
      }
      child.kill("SIGKILL");
      await exited(child);
      if (!existsSync(path)) continue;
      const counts = checkInvariants();
      expect(counts.runs).toBeGreaterThanOrEqual(previous.runs);
      previous = counts;
      // The store itself opens and reads everything back after every kill.
      const store = openStore({ path });
      try {
        for (const run of store.listRuns({ limit: 20 })) {
          const events = store.listEvents(run.id);
          expect(events[0]?.event).toMatchObject({ kind: "run_status", status: "queued" });
          expect(store.maxCursor(run.id)).toBe(events.at(-1)?.cursor);
        }
      } finally {
        store.close();
      }
    }
    // The writers made real progress between kills (the test would be vacuous otherwise).
    expect(previous.runs).toBeGreaterThan(kills / 2);
    expect(previous.events).toBeGreaterThan(previous.runs * 5);
  });
});

describe("a second process on the same database", () => {
  it("is refused with CONFLICT while the first holds it, and admitted once the holder is killed", async () => {
    const holder = start("hold-open.ts");
    expect(await firstLine(holder)).toBe("ready");

    let refused: { code?: string; message: string; hint?: string } | undefined;
    try {
      openStore({ path }).close();
    } catch (error) {
      refused = error as { code?: string; message: string; hint?: string };
    }
    expect(refused?.code).toBe("CONFLICT");
    expect(refused?.message).toContain(path);
    expect(refused?.message).toMatch(/already open in another process/);
    expect(refused?.hint).toMatch(/dataDir/);

    // No stale lock: SIGKILL releases it with the process.
    holder.kill("SIGKILL");
    await exited(holder);
    const store = openStore({ path });
    try {
      const second = start("hold-open.ts");
      const line = await firstLine(second);
      expect(line).toMatch(/^error CONFLICT Database .* is already open/);
      expect(await exited(second)).toBe(3);
    } finally {
      store.close();
    }
  });
});

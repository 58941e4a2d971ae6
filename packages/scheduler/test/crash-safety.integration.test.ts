/**
 * Exactly-once under SIGKILL: a separate process ticks the scheduler over the real SQLite store
 * with a fast virtual clock and is killed at random moments, 21 times, then restarted with its
 * clock replayed to a little before the last recorded fire. If the fire transaction were not
 * atomic, a kill would leave a run without its fire record or event (a restart would then create
 * a second run for that fire); if restarts did not respect history, a fire would be recorded twice
 * or a due fire skipped.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { openStore } from "@promenade/store";
import { validateMeta } from "@promenade/workflow";

const CHILD = fileURLToPath(new URL("./fixtures/tick-loop.ts", import.meta.url));
const T0 = Date.UTC(2026, 0, 1);
const LIVES = 21;

const dir = mkdtempSync(join(tmpdir(), "promenade-scheduler-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers, so a failure replays the same kill schedule. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Start the child, wait until it ticks, let it run `runMs`, SIGKILL it. */
async function liveAndDie(dbPath: string, startMs: number, runMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--conditions=@promenade/source", "--no-warnings", CHILD, dbPath, String(startMs)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes("ready")) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, runMs));
  child.kill("SIGKILL");
  const { signal } = await exited;
  expect(signal, stderr).toBe("SIGKILL");
  expect(stderr).toBe(""); // no CONFLICT, no contained error, no catch-up notice
}

it(
  "records every due fire exactly once, with one run each, across 21 SIGKILLs",
  { timeout: 300_000 },
  async () => {
    const dbPath = join(dir, "promenade.db");
    const setup = openStore({ path: dbPath, now: () => T0 });
    const triggers = [
      { kind: "cron", expr: "* * * * * *" },
      { kind: "cron", expr: "*/2 * * * * *" },
      { kind: "cron", expr: "*/5 * * * * *", timezone: "Europe/London" },
    ];
    setup.upsertWorkflow({
      slug: "fast",
      manifest: validateMeta({ slug: "fast", triggers }),
      program: "",
    });
    setup.upsertWorkflow({
      slug: "once",
      manifest: validateMeta({ slug: "once", triggers: [{ kind: "cron", expr: "*/3 * * * * *" }] }),
      program: "",
      config: { catch_up: "once" },
    });
    setup.close();

    const next = random(20_261_124);
    let start = T0;
    for (let life = 0; life < LIVES; life++) {
      await liveAndDie(dbPath, start, 30 + Math.floor(next() * 200));
      // Restart a little before the earliest trigger's last fire: every trigger replays instants
      // it already fired, and none has a missed fire, so the record must stay gap-free.
      const db = new DatabaseSync(dbPath);
      const row = db
        .prepare(
          "SELECT MIN(last) AS earliest FROM (SELECT MAX(fire_time) AS last FROM cron_fires GROUP BY workflow_id, trigger_index)",
        )
        .get() as { earliest: number | null };
      db.close();
      if (row.earliest !== null) start = row.earliest - Math.floor(next() * 4) * 1000;
    }

    const db = new DatabaseSync(dbPath, { readOnly: true });
    const scalar = (sql: string): number => Number(Object.values(db.prepare(sql).get() ?? {})[0]);
    const cronRuns = scalar("SELECT COUNT(*) FROM runs WHERE trigger_kind = 'cron'");
    const fires = scalar("SELECT COUNT(*) FROM cron_fires");
    expect(fires).toBeGreaterThan(LIVES * 5);
    // One run per fire, one fire per run, one queued event per run: nothing half-written.
    expect(cronRuns).toBe(fires);
    expect(scalar("SELECT COUNT(DISTINCT run_id) FROM cron_fires")).toBe(fires);
    expect(
      scalar(
        "SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM cron_fires f WHERE f.run_id = r.id)",
      ),
    ).toBe(0);
    expect(
      scalar(
        "SELECT COUNT(*) FROM run_events WHERE cursor = 1 AND json_extract(event, '$.status') = 'queued'",
      ),
    ).toBe(fires);
    // Every other event is the completion the dispatch stand-in committed with its status.
    const completed = scalar("SELECT COUNT(*) FROM runs WHERE status = 'completed'");
    expect(scalar("SELECT COUNT(*) FROM run_events")).toBe(fires + completed);
    expect(scalar("SELECT COUNT(*) FROM runs WHERE status NOT IN ('queued', 'completed')")).toBe(0);
    // Every due instant between a trigger's first and last fire is recorded (no gaps, no repeats).
    const steps = new Map([
      ["fast#0", 1000],
      ["fast#1", 2000],
      ["fast#2", 5000],
      ["once#0", 3000],
    ]);
    const series = db
      .prepare(
        "SELECT w.slug AS slug, f.trigger_index AS idx, f.fire_time AS t FROM cron_fires f JOIN workflows w ON w.id = f.workflow_id ORDER BY slug, idx, t",
      )
      .all() as { slug: string; idx: number; t: number }[];
    db.close();
    const bySeries = new Map<string, number[]>();
    for (const { slug, idx, t } of series) {
      const key = `${slug}#${idx}`;
      bySeries.set(key, [...(bySeries.get(key) ?? []), t]);
    }
    expect([...bySeries.keys()].sort()).toEqual([...steps.keys()].sort());
    for (const [key, times] of bySeries) {
      const step = steps.get(key) ?? 0;
      const first = times[0] ?? 0;
      const expected = Array.from({ length: times.length }, (_, i) => first + i * step);
      expect(times, key).toEqual(expected);
      expect(first % step, key).toBe(0);
    }
  },
);

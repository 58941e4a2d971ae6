/**
 * Event append throughput: `store.appendEvents` (one event per call, and batches of 100)
 * against raw better-sqlite3 inserts into the same schema with the same pragmas, measured in
 * the same run, interleaved, several rounds. Prints median and spread (min–max) in events/s.
 * Targets (issue 3): batched ≥ 60% of raw batched; one-per-call ≥ 50% of raw one-row-per-txn.
 * Run: `pnpm bench` (or `node --conditions=@promenade/source bench/append.ts`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../src/migrations.ts";
import { openStore } from "../src/open.ts";
import { testManifest } from "../src/testing/fixtures.ts";
import type { EventAppend, Store } from "../src/types.ts";

const EVENTS = 10_000;
const BATCH = 100;
const ROUNDS = 15;
const STRIDE = 1_000_000;

/** A realistic mix: program output lines and an agent turn's frames, small payloads. */
function makeEvents(runId: string, count: number): EventAppend[] {
  const rows: EventAppend[] = [];
  for (let index = 0; index < count; index++) {
    const block = Math.floor(index / 50) + 1;
    const seq = (index % 50) + 1;
    const envelope = { runId, seq, t: 1_760_000_000_000 + index };
    const turnId = `01JDTURN${String(block).padStart(18, "0")}`;
    const pick = index % 10;
    const event =
      pick < 4
        ? {
            kind: "program_output" as const,
            stream: "stdout" as const,
            text: `processed item ${String(index)} of the batch\n`,
            turnId: runId,
            ...envelope,
          }
        : pick < 8
          ? {
              kind: "text_delta" as const,
              blockId: "b0",
              text: "The quick brown fox ",
              turnId,
              ...envelope,
            }
          : pick === 8
            ? {
                kind: "tool_call_start" as const,
                toolCallId: `call_${String(index)}`,
                toolName: "search",
                turnId,
                ...envelope,
              }
            : {
                kind: "tool_call_result" as const,
                toolCallId: `call_${String(index - 1)}`,
                result: { humanSummary: "3 results for “sqlite wal”", data: { count: 3 } },
                turnId,
                ...envelope,
              };
    rows.push({ cursor: block * STRIDE + seq, event });
  }
  return rows;
}

function pragmas(db: Database.Database): void {
  db.pragma("locking_mode = EXCLUSIVE");
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
}

interface Subject {
  name: string;
  run(events: EventAppend[], runId: string): void;
  newRun(): string;
}

function storeSubjects(store: Store): Subject[] {
  const workflowId = store.upsertWorkflow({
    slug: "bench",
    manifest: testManifest("bench"),
    program: "",
  }).id;
  const newRun = () => store.createRun({ workflowId, triggerKind: "manual" }).run.id;
  return [
    {
      name: "store, one event per call",
      newRun,
      run: (events, runId) => {
        for (const row of events) store.appendEvents(runId, [row]);
      },
    },
    {
      name: "store, batches of 100",
      newRun,
      run: (events, runId) => {
        for (let index = 0; index < events.length; index += BATCH) {
          store.appendEvents(runId, events.slice(index, index + BATCH));
        }
      },
    },
  ];
}

function rawSubjects(db: Database.Database): Subject[] {
  db.exec("INSERT INTO workflows VALUES ('w', 'bench', '{}', '', '{}', 0, 0)");
  let runs = 0;
  const createRun = db.prepare(
    "INSERT INTO runs (id, workflow_id, status, trigger_kind, created_at) VALUES (?, 'w', 'queued', 'manual', 0)",
  );
  const newRun = () => {
    const id = `raw-run-${String(++runs)}`;
    createRun.run(id);
    return id;
  };
  const insert = db.prepare("INSERT INTO run_events (run_id, cursor, event) VALUES (?, ?, ?)");
  const batch = db.transaction((runId: string, rows: EventAppend[]) => {
    for (const row of rows) insert.run(runId, row.cursor, JSON.stringify(row.event));
  });
  return [
    {
      name: "raw, one row per transaction",
      newRun,
      run: (events, runId) => {
        for (const row of events) insert.run(runId, row.cursor, JSON.stringify(row.event));
      },
    },
    {
      name: "raw, batches of 100",
      newRun,
      run: (events, runId) => {
        for (let index = 0; index < events.length; index += BATCH)
          batch(runId, events.slice(index, index + BATCH));
      },
    },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), "promenade-bench-append-"));
  try {
    const store = openStore({ path: join(dir, "store.db") });
    const raw = new Database(join(dir, "raw.db"));
    pragmas(raw);
    for (const migration of MIGRATIONS) raw.exec(migration.sql);
    const rawPlain = new Database(join(dir, "raw-plain.db"));
    pragmas(rawPlain);
    rawPlain.exec(MIGRATIONS[0]?.sql ?? "");
    const plainSubjects = rawSubjects(rawPlain).map((s) => ({
      ...s,
      name: `${s.name} (no channel index)`,
    }));
    const subjects = [...storeSubjects(store), ...rawSubjects(raw), ...plainSubjects];
    const wall = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const template = makeEvents("placeholder", EVENTS);
    // Warm-up: JIT, page cache, statement caches.
    for (const subject of subjects) {
      const runId = subject.newRun();
      subject.run(makeEvents(runId, 2_000), runId);
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no subject always runs on a warmer machine.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]!);
      for (const subject of order) {
        const runId = subject.newRun();
        const events = template.map((row) => ({
          cursor: row.cursor,
          event: { ...row.event, runId },
        }));
        const cpuStart = process.cpuUsage();
        const start = process.hrtime.bigint();
        subject.run(events, runId);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const used = process.cpuUsage(cpuStart);
        wall.get(subject.name)?.push(EVENTS / seconds);
        cpu.get(subject.name)?.push(EVENTS / ((used.user + used.system) / 1e6));
      }
    }
    store.close();
    raw.close();
    rawPlain.close();

    const format = (n: number) => Math.round(n).toLocaleString("en-US").padStart(9);
    const spread = (values: number[]) =>
      `${format(median(values))} [${format(Math.min(...values))} – ${format(Math.max(...values))}]`;
    console.log(
      `append throughput, ${String(EVENTS)} events × ${String(ROUNDS)} rounds, events/s: median [min–max]`,
    );
    console.log(`  ${"".padEnd(48)} ${"wall clock".padEnd(31)} process CPU time (user + system)`);
    for (const subject of subjects) {
      console.log(
        `  ${subject.name.padEnd(48)} ${spread(wall.get(subject.name) ?? [])}   ${spread(cpu.get(subject.name) ?? [])}`,
      );
    }
    // Per-round ratios: store and raw ran back to back in the same round, so machine load
    // (other processes on this shared 2-core box) largely cancels out.
    const ratios = (rates: Map<string, number[]>, a: string, b: string) =>
      (rates.get(a) ?? []).map((value, i) => value / (rates.get(b)?.[i] ?? Number.NaN));
    const report = (label: string, a: string, b: string, target: number) => {
      for (const [clock, rates] of [
        ["wall", wall],
        ["cpu", cpu],
      ] as const) {
        const r = ratios(rates, a, b);
        const m = median(r);
        console.log(
          `  ${label} (${clock}): median ${(m * 100).toFixed(0)}% [${(Math.min(...r) * 100).toFixed(0)}–${(Math.max(...r) * 100).toFixed(0)}%] target ≥ ${String(target * 100)}% ${m >= target ? "PASS" : "FAIL"}`,
        );
      }
    };
    report(
      "one per call vs raw one-row txn",
      "store, one event per call",
      "raw, one row per transaction",
      0.5,
    );
    report("batched vs raw batched         ", "store, batches of 100", "raw, batches of 100", 0.6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();

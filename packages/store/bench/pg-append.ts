/**
 * Event append throughput on PostgreSQL: one run, 20,000 `phase` events appended through
 * `PgStore.appendEvents` one batch after another, the way the supervisor flushes (whatever
 * accumulated in one event-loop turn, at most 2,000 events), against raw `pg` multi-row inserts
 * of the same rows as a floor. A throwaway cluster with PostgreSQL's durable defaults (fsync,
 * synchronous commit) on this machine; several rounds, interleaved; prints median and spread
 * (min–max) in events/s. Target: ≥ 20,000 events/s through the store.
 *
 * On a loaded machine wall-clock rates mostly measure the other processes, so each round also
 * counts the CPU time it cost — this process plus every server process — and reports
 * events / (client + server CPU seconds): the rate of one core doing nothing else, with the
 * client and the server taking turns as they do when each batch waits for its commit.
 * Run: `pnpm bench` (or `node --conditions=@promenade/source bench/pg-append.ts`).
 */
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { openPgStore, type PgStore } from "../src/pg/index.ts";
import { testManifest } from "../src/testing/fixtures.ts";
import { startPostgres } from "../src/testing/postgres.ts";
import type { EventAppend } from "../src/types.ts";

const EVENTS = 20_000;
const ROUNDS = 7;
const STRIDE = 1_000_000;
const TARGET = 20_000;

function phases(runId: string): EventAppend[] {
  return Array.from({ length: EVENTS }, (_, index) => ({
    cursor: STRIDE + index + 1,
    event: {
      kind: "phase" as const,
      name: `step ${String(index)}`,
      id: `phase-${String(index)}`,
      runId,
      turnId: runId,
      seq: index + 1,
      t: 1_760_000_000_000 + index,
    },
  }));
}

interface Subject {
  name: string;
  run(): Promise<void>;
}

function storeSubject(store: PgStore, workflowId: string, batch: number): Subject {
  return {
    name: `store, batches of ${batch.toLocaleString("en-US")}`,
    run: async () => {
      const { run } = await store.createRun({ workflowId, triggerKind: "manual" });
      const events = phases(run.id);
      for (let index = 0; index < events.length; index += batch) {
        await store.appendEvents(run.id, events.slice(index, index + batch));
      }
    },
  };
}

let rawRuns = 0;

function rawSubject(client: pg.Client, batch: number): Subject {
  return {
    name: `raw pg INSERT … unnest, batches of ${batch.toLocaleString("en-US")}`,
    run: async () => {
      const runId = `raw-${String(++rawRuns)}`;
      await client.query(
        "INSERT INTO runs (id, workflow_id, status, trigger_kind, created_at) VALUES ($1, 'w', 'queued', 'manual', 0)",
        [runId],
      );
      const events = phases(runId);
      for (let index = 0; index < events.length; index += batch) {
        const rows = events.slice(index, index + batch);
        await client.query(
          "INSERT INTO run_events (run_id, cursor, channel, event) SELECT $1, c, 'phase', e FROM unnest($2::bigint[], $3::text[]) AS t(c, e)",
          [runId, rows.map((row) => row.cursor), rows.map((row) => JSON.stringify(row.event))],
        );
      }
    },
  };
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) used so far by every process in process group `group`. */
function groupCpuSeconds(group: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command: state ppid pgrp … utime(14) stime(15).
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== group) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / TICKS_PER_SECOND;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const server = await startPostgres({ durable: true });
  let store: PgStore | undefined;
  const raw = new pg.Client({ connectionString: await server.createDatabase("raw") });
  try {
    store = await openPgStore({ url: await server.createDatabase("store") });
    const workflowId = (
      await store.upsertWorkflow({ slug: "bench", manifest: testManifest("bench"), program: "" })
    ).id;
    // The raw floor writes into the same schema, migrated by a second store.
    const rawUrl = new URL(server.url);
    rawUrl.pathname = "/raw";
    await (await openPgStore({ url: rawUrl.toString() })).close();
    await raw.connect();
    await raw.query(
      "INSERT INTO workflows (id, slug, manifest, program, config, created_at, updated_at) VALUES ('w', 'bench', '{}', '', '{}', 0, 0)",
    );
    const subjects = [
      storeSubject(store, workflowId, 100),
      storeSubject(store, workflowId, 2_000),
      rawSubject(raw, 100),
      rawSubject(raw, 2_000),
    ];
    // Warm-up: JIT, connections, server caches.
    for (const subject of subjects) await subject.run();
    const rates = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const cpuRates = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const group = server.pid ?? 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no subject always runs on a warmer machine.
      for (let i = 0; i < subjects.length; i++) {
        const subject = subjects[(i + round) % subjects.length]!;
        const serverBefore = groupCpuSeconds(group);
        const clientBefore = process.cpuUsage();
        const start = process.hrtime.bigint();
        await subject.run();
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const client = process.cpuUsage(clientBefore);
        const cpu = (client.user + client.system) / 1e6 + (groupCpuSeconds(group) - serverBefore);
        rates.get(subject.name)?.push(EVENTS / seconds);
        cpuRates.get(subject.name)?.push(EVENTS / cpu);
      }
    }
    const format = (n: number) => Math.round(n).toLocaleString("en-US").padStart(8);
    const spread = (values: number[]) =>
      `${format(median(values))} [${format(Math.min(...values))} – ${format(Math.max(...values))}]`;
    const verdict = (name: string, values: number[]) =>
      name.startsWith("store") ? (median(values) >= TARGET ? " PASS" : " FAIL") : "     ";
    console.log(
      `PostgreSQL append, one run × ${EVENTS.toLocaleString("en-US")} phase events × ${String(ROUNDS)} rounds (fsync on), events/s: median [min–max]; target ≥ ${TARGET.toLocaleString("en-US")} through the store`,
    );
    console.log(`  ${"".padEnd(40)} ${"wall clock".padEnd(35)} per CPU second (client + server)`);
    for (const subject of subjects) {
      const wall = rates.get(subject.name) ?? [];
      const cpu = cpuRates.get(subject.name) ?? [];
      console.log(
        `  ${subject.name.padEnd(40)} ${spread(wall)}${verdict(subject.name, wall)}   ${spread(cpu)}${verdict(subject.name, cpu)}`,
      );
    }
  } finally {
    await store?.close();
    await raw.end().catch(() => undefined);
    await server.destroy();
  }
}

await main();

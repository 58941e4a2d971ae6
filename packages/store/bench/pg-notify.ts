/**
 * Cross-node live delivery on PostgreSQL: one listening store (node B) appends 1,000 events/s to
 * a few runs in small batches, as running programs do; another listening store on the same
 * database (node A) receives them through its feed. Reports the latency from the moment B's
 * append resolved (its commit) to the moment A's subscriber got the event: median, p99 and max
 * over every event of several seconds, beside the floor of one bare `pg` NOTIFY round trip between
 * two plain connections measured in the same run. Also checks that A saw every event exactly once
 * and in order. Target: p99 ≤ 50 ms under 1,000 events/s.
 * Run: `pnpm bench` (or `node --conditions=@promenade/source bench/pg-notify.ts`).
 */
import pg from "pg";
import { openPgStore } from "../src/pg/index.ts";
import { testManifest } from "../src/testing/fixtures.ts";
import { startPostgres } from "../src/testing/postgres.ts";
import type { EventAppend } from "../src/types.ts";

const RATE = 1_000;
const SECONDS = 8;
const RUNS = 4;
/** Appends per second per run: every 20 ms a batch of 5 events to each of 4 runs. */
const TICK_MS = 20;
const TARGET_P99_MS = 50;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function describe(values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms (n=${String(sorted.length)})`;
}

function event(runId: string, cursor: number): EventAppend {
  return {
    cursor,
    event: {
      kind: "program_output",
      stream: "stdout",
      text: `line ${String(cursor)}`,
      runId,
      turnId: runId,
      seq: cursor,
      t: Date.now(),
    },
  };
}

/** One NOTIFY from a plain connection to a LISTENing one, `count` times: the floor. */
async function bareNotify(url: string, count: number): Promise<number[]> {
  const listener = new pg.Client({ connectionString: url });
  const sender = new pg.Client({ connectionString: url });
  await listener.connect();
  await sender.connect();
  await listener.query("LISTEN bench_floor");
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const received = new Promise<number>((resolve) => {
      listener.once("notification", () => resolve(performance.now()));
    });
    const sent = performance.now();
    await sender.query(`NOTIFY bench_floor, '${String(i)}'`);
    latencies.push((await received) - sent);
  }
  await listener.end();
  await sender.end();
  return latencies;
}

async function main(): Promise<void> {
  const server = await startPostgres({ durable: true });
  try {
    const url = server.url;
    const floor = await bareNotify(url, 500);

    const nodeB = await openPgStore({ url, exclusive: false, listen: true });
    const nodeA = await openPgStore({ url, exclusive: false, listen: true });
    const workflow = await nodeB.upsertWorkflow({
      slug: "bench",
      manifest: testManifest("bench"),
      program: "export {}",
    });
    const committedAt = new Map<string, number>();
    const receivedAt = new Map<string, number>();
    const seen = new Map<string, number[]>();
    nodeA.subscribe((row) => {
      receivedAt.set(`${row.runId}:${String(row.cursor)}`, performance.now());
      const list = seen.get(row.runId) ?? [];
      list.push(row.cursor);
      seen.set(row.runId, list);
    });

    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      runIds.push(
        (await nodeB.createRun({ workflowId: workflow.id, triggerKind: "manual" })).run.id,
      );
    }
    const perBatch = (RATE * TICK_MS) / 1000 / RUNS;
    const cursors = new Map(runIds.map((id) => [id, 1]));
    const written = new Map<string, number[]>(runIds.map((id) => [id, [1]]));
    const ticks = (SECONDS * 1000) / TICK_MS;
    const started = performance.now();
    const appends: Promise<void>[] = [];
    for (let tick = 0; tick < ticks; tick++) {
      const due = started + tick * TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      for (const runId of runIds) {
        const from = cursors.get(runId)! + 1;
        const batch = Array.from({ length: perBatch }, (_, i) => event(runId, from + i));
        cursors.set(runId, from + perBatch - 1);
        written.get(runId)!.push(...batch.map((row) => row.cursor));
        appends.push(
          nodeB.appendEvents(runId, batch).then(() => {
            const at = performance.now();
            for (const row of batch) committedAt.set(`${runId}:${String(row.cursor)}`, at);
          }),
        );
      }
    }
    await Promise.all(appends);
    const elapsed = (performance.now() - started) / 1000;
    const deadline = Date.now() + 30_000;
    const total = [...written.values()].reduce((sum, list) => sum + list.length, 0);
    const received = (): number => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
    while (received() < total && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Both stores live in this process, so A may get an event before B's append has resolved:
    // that counts as no delay.
    const latencies: number[] = [];
    for (const [key, committed] of committedAt) {
      const received = receivedAt.get(key);
      if (received !== undefined) latencies.push(Math.max(0, received - committed));
    }
    let exact = true;
    for (const runId of runIds) {
      const expected = written.get(runId)!;
      const got = seen.get(runId) ?? [];
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        exact = false;
        const missing = expected.filter((cursor) => !got.includes(cursor));
        console.log(
          `  run ${runId}: got ${String(got.length)} of ${String(expected.length)}; first missing ${missing.slice(0, 5).join(", ")}; first got ${got.slice(0, 5).join(", ")}`,
        );
      }
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p99 = quantile(sorted, 0.99);
    console.log(
      `cross-node delivery, ${String(total)} events at ${(total / elapsed).toFixed(0)} events/s over ${String(RUNS)} runs`,
    );
    console.log(`  commit on B → subscriber on A: ${describe(latencies)}`);
    console.log(`  floor, bare NOTIFY → LISTEN: ${describe(floor)}`);
    console.log(`  every event exactly once, in order: ${exact ? "yes" : "NO"}`);
    console.log(
      `  target p99 ≤ ${String(TARGET_P99_MS)} ms: ${p99 <= TARGET_P99_MS ? "MEETS target" : "MISSES target"}`,
    );
    await nodeA.close();
    await nodeB.close();
    if (!exact) process.exitCode = 1;
  } finally {
    await server.destroy();
  }
}

await main();

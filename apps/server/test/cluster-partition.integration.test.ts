/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- the test reads untyped JSON API bodies */
/**
 * A cluster node cut off from PostgreSQL by a real network partition: node B runs in a network
 * namespace of the test's own and reaches the database only over a veth link; node A runs beside
 * the database. B executes a run; the test takes B's link down for longer than the lease. B stops
 * the run's process, A takes the run over and finishes it, and when the link comes back B rejoins
 * without a single stale write landing in the run (its queries held in flight across the cut are
 * refused by the epoch check) and runs new work again. If this breaks, a partitioned node
 * corrupts runs another node owns, or never comes back.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createNetns, type Netns } from "./netns.ts";
import { start, stopServers, waitFor } from "./helpers.ts";

const TOKEN = "cluster-partition-token-0123456789abcdef";
const LEASE_MS = 5000;
const TERMINAL = ["completed", "failed", "cancelled"];
let postgres: PostgresServer;
let netns: Netns | undefined;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres.destroy();
});

afterEach(async () => {
  stopServers();
  await netns?.destroy();
  netns = undefined;
});

const auth = { authorization: `Bearer ${TOKEN}` };

async function api(base: string, path: string, method = "GET"): Promise<any> {
  const res = await fetch(`${base}${path}`, { method, headers: auth });
  return res.json();
}

describe("a cluster node partitioned from PostgreSQL", () => {
  it("stops its run, another node finishes it, and it rejoins without a stale write", async () => {
    netns = await createNetns();
    const relayed = await netns.reachHost({ host: postgres.host, port: postgres.port });
    const url = await postgres.createDatabase();
    const viaLink = new URL(url);
    viaLink.hostname = relayed.host;
    viaLink.port = String(relayed.port);

    const root = mkdtempSync(join(tmpdir(), "promenade-cluster-partition-"));
    const workflowsDir = join(root, "workflows");
    mkdirSync(workflowsDir);
    // Ticks of 250 ms, each naming the process that printed it: at least 40, and more until the
    // test lets it end (its go file exists).
    const go = join(root, "go");
    writeFileSync(
      join(workflowsDir, "ticker.mjs"),
      [
        'import { existsSync } from "node:fs";',
        'import { output, sleep } from "@promenade/workflow";',
        'export const meta = { slug: "ticker", triggers: [{ kind: "manual" }] };',
        `for (let i = 1; i <= 40 || !existsSync(${JSON.stringify(go)}); i++) {`,
        "  console.log(`pid ${process.pid} tick ${i}`);",
        "  await sleep(250);",
        "}",
        "output({ pid: process.pid });",
        "",
      ].join("\n"),
    );
    const common = {
      PROMENADE_DATA_DIR: join(root, "shared"),
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_CLUSTER: "1",
      PROMENADE_LEASE_MS: String(LEASE_MS),
      PROMENADE_API_TOKEN: TOKEN,
    };
    const b = start(
      {
        ...common,
        PROMENADE_WORK_DIR: join(root, "work-b"),
        PROMENADE_NODE_ID: "node-b",
        PROMENADE_DATABASE_URL: viaLink.href,
        PROMENADE_HOST: netns.nsIp,
      },
      [],
      { prefix: netns.exec },
    );
    const baseB = await netns.reachNode(await b.base);
    // A run on B (the only node yet), well under way; then node A joins.
    const { run } = await api(baseB, "/api/workflows/ticker/runs", "POST");
    const id = run.id as string;
    await waitFor(async () => {
      const row = (await api(baseB, `/api/runs/${id}`)).run;
      return row.status === "running" && row.nodeId === "node-b" ? true : undefined;
    });
    const a = start({
      ...common,
      PROMENADE_WORK_DIR: join(root, "work-a"),
      PROMENADE_NODE_ID: "node-a",
      PROMENADE_DATABASE_URL: url,
    });
    const baseA = await a.base;
    await waitFor(async () => {
      const { events } = await api(baseA, `/api/runs/${id}/events?verbose=true&limit=5000`);
      const ticks = (events as any[]).filter((row) => row.event.kind === "program_output");
      return ticks.length >= 4 ? true : undefined;
    });

    netns.cut();
    // B gives the run up on its own (no heartbeat reached the database within the lease) and A
    // takes it over; both while the link stays down.
    await waitFor(() =>
      Promise.resolve(b.output().includes(`run ${id}: lease lost`) ? true : undefined),
    );
    await waitFor(async () => {
      const row = (await api(baseA, `/api/runs/${id}`)).run;
      return row.nodeId === "node-a" && row.status === "running" ? true : undefined;
    });
    netns.restore();
    writeFileSync(go, "");

    const done = await waitFor(async () => {
      const row = (await api(baseA, `/api/runs/${id}`)).run;
      return TERMINAL.includes(row.status as string) ? row : undefined;
    }, 120_000);
    expect(done).toMatchObject({ status: "completed", nodeId: "node-a" });
    const winner = (done.output as { pid: number }).pid;

    // Give B's queries held across the cut time to arrive; none of them may land.
    await waitFor(async () =>
      (await fetch(`${baseB}/healthz`)).status === 200 ? true : undefined,
    );
    const { events } = await api(baseA, `/api/runs/${id}/events?verbose=true&limit=5000`);
    const rows = events as any[];
    const takeover = rows.findIndex(
      (row) => row.event.kind === "run_status" && row.event.reason === "failover",
    );
    expect(takeover).toBeGreaterThan(0);
    const lines = rows
      .slice(takeover)
      .filter((row) => row.event.kind === "program_output")
      .map((row) => row.event.text as string);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toContain(`pid ${String(winner)} `);
    const cursors = rows.map((row) => row.cursor as number);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(
      rows.filter((row) => row.event.kind === "run_status" && TERMINAL.includes(row.event.status)),
    ).toHaveLength(1);

    // B is back: it runs new work to the end.
    const again = (await api(baseB, "/api/workflows/ticker/runs", "POST")).run.id as string;
    const second = await waitFor(async () => {
      const row = (await api(baseB, `/api/runs/${again}`)).run;
      return TERMINAL.includes(row.status as string) ? row : undefined;
    }, 120_000);
    expect(second.status).toBe("completed");
  }, 300_000);
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- the test reads untyped JSON API bodies */
/**
 * `promenade-server` as a cluster: several real server processes (`PROMENADE_CLUSTER=1`, a short
 * lease) on one real PostgreSQL database. A node SIGKILLed while it holds a sleeping run: the run
 * is restarted from the top on another node (a `failover` pass, no crash restart used) and
 * completes there. A node frozen (SIGSTOP) past its lease and then resumed: its late writes are
 * refused, it stops its stale process, and the run completes exactly once on the other node. A
 * serial workflow's runs never overlap across nodes. A cancel sent to a node that does not hold
 * the run reaches the holder. SIGTERM drains a node: its runs finish (or, past the grace, move to
 * another node) and it exits 0. If this breaks, a cluster loses runs, runs them twice, or lets a
 * paused node corrupt a run another node owns.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import pg from "pg";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { json, start, stopServers, waitFor } from "./helpers.ts";
import type { Server } from "./helpers.ts";

let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres.destroy();
});

afterEach(() => {
  for (const node of frozen.splice(0)) {
    if (node.child.exitCode === null) node.child.kill("SIGCONT");
  }
  stopServers();
});

const frozen: Server[] = [];
const TERMINAL = ["completed", "failed", "cancelled"];
const LEASE_MS = "5000";

const WORKFLOWS: Record<string, string[]> = {
  // Twelve ticks, and more while the test holds it (its go file is missing): a test that needs
  // the run still running at some point removes the file and puts it back when it may end.
  "sleeper.mjs": [
    'import { existsSync } from "node:fs";',
    'import { output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "sleeper", triggers: [{ kind: "manual" }] };',
    "for (let i = 0; i < 12 || !existsSync(__GO__); i += 1) {",
    "  console.log(`pass ${process.pid} tick ${i}`);",
    "  await sleep(500);",
    "}",
    "output({ done: true });",
  ],
  "caller.mjs": [
    'import { output, workflows } from "@promenade/workflow";',
    'export const meta = { slug: "caller", triggers: [{ kind: "manual" }] };',
    'output({ child: await workflows.call("callee", { n: 1 }) });',
  ],
  "callee.mjs": [
    'import { input, output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "callee", triggers: [{ kind: "manual" }] };',
    "await sleep(5000);",
    "output({ got: input });",
  ],
  "approve.mjs": [
    'import { humanInput, output } from "@promenade/workflow";',
    'export const meta = { slug: "approve", triggers: [{ kind: "manual" }] };',
    'const decision = await humanInput({ key: "ship", prompt: "Ship?", input: { kind: "choice", options: ["Ship", "Hold"] } });',
    "output({ decision });",
  ],
  "one-at-a-time.mjs": [
    'import { output, sleep } from "@promenade/workflow";',
    "export const meta = {",
    '  slug: "one-at-a-time",',
    '  triggers: [{ kind: "manual" }],',
    '  concurrency: { mode: "serial" },',
    "};",
    "await sleep(300);",
    "output({ ok: true });",
  ],
};

/** A cluster on a fresh database: the shared env and a starter of nodes. */
async function cluster(
  extra: Record<string, string> = {},
  workflows: Record<string, string[]> = {},
): Promise<{
  node: (id: string) => Server;
  url: string;
  /** Holds every sleeper past its twelve ticks until `release()`. */
  hold: () => void;
  release: () => void;
}> {
  const url = await postgres.createDatabase();
  const root = mkdtempSync(join(tmpdir(), "promenade-cluster-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  const go = join(root, "go");
  writeFileSync(go, "");
  for (const [name, lines] of Object.entries({ ...WORKFLOWS, ...workflows })) {
    const text = [...lines, ""].join("\n").replaceAll("__GO__", JSON.stringify(go));
    writeFileSync(join(workflowsDir, name), text);
  }
  return {
    url,
    hold: () => rmSync(go, { force: true }),
    release: () => writeFileSync(go, ""),
    node: (id) =>
      start({
        PROMENADE_DATA_DIR: join(root, `data-${id}`),
        PROMENADE_WORKFLOWS_DIR: workflowsDir,
        PROMENADE_PORT: "0",
        PROMENADE_DATABASE_URL: url,
        PROMENADE_CLUSTER: "1",
        PROMENADE_NODE_ID: id,
        PROMENADE_LEASE_MS: LEASE_MS,
        ...extra,
      }),
  };
}

async function run(base: string, id: string): Promise<any> {
  return (await json(`${base}/api/runs/${id}`)).run;
}

async function terminal(base: string, id: string): Promise<any> {
  return waitFor(async () => {
    const row = await run(base, id);
    return TERMINAL.includes(row.status) ? row : undefined;
  }, 120_000);
}

/** The run's stored events (every channel). */
async function events(base: string, id: string): Promise<any[]> {
  return (await json(`${base}/api/runs/${id}/events?verbose=true&limit=1000`)).events;
}

/** `[status, reason]` of each `run_status` event, in cursor order. */
function statuses(log: any[]): [string, string | undefined][] {
  return log
    .filter((row) => row.event.kind === "run_status")
    .map((row) => [row.event.status, row.event.reason]);
}

/** Starts a sleeper on `base` and waits until it runs; its id. */
async function runningSleeper(base: string): Promise<string> {
  const started = await json(`${base}/api/workflows/sleeper/runs`, { method: "POST" });
  const id: string = started.run.id;
  await waitFor(async () => ((await run(base, id)).status === "running" ? true : undefined));
  return id;
}

describe("promenade-server as a cluster on PostgreSQL", () => {
  it("restarts a SIGKILLed node's run from the top on another node (failover pass), and runs a serial workflow one at a time across nodes", async () => {
    const { node, hold, release } = await cluster();
    hold();
    const a = node("node-a");
    const baseA = await a.base;
    expect(a.output()).toContain("cluster node: node-a (lease 5000 ms)");
    const id = await runningSleeper(baseA);
    expect((await run(baseA, id)).nodeId).toBe("node-a");
    const b = node("node-b");
    const baseB = await b.base;
    const health = await json(`${baseB}/healthz`);
    expect(health).toMatchObject({ status: "ok", node: { id: "node-b", heldRuns: 0 } });

    a.child.kill("SIGKILL");
    await a.exit;
    release();
    const done = await terminal(baseB, id);
    expect(done).toMatchObject({ status: "completed", output: { done: true }, nodeId: "node-b" });
    expect(done.restarts).toBe(0);
    expect(statuses(await events(baseB, id))).toEqual([
      ["queued", undefined],
      ["pending", "first_start"],
      ["running", "first_start"],
      ["pending", "failover"],
      ["running", "failover"],
      ["completed", undefined],
    ]);
    expect(b.output()).toContain(`run ${id}: taken over`);

    // A serial workflow, started through both nodes: never two of its runs at once.
    const c = node("node-c");
    const baseC = await c.base;
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const base = i % 2 === 0 ? baseB : baseC;
      ids.push((await json(`${base}/api/workflows/one-at-a-time/runs`, { method: "POST" })).run.id);
    }
    const rows = await Promise.all(ids.map((runId) => terminal(baseB, runId)));
    for (const row of rows) expect(row.status).toBe("completed");
    const spans = rows
      .map((row) => ({ start: row.startedAt as number, end: row.endedAt as number }))
      .sort((x, y) => x.start - y.start);
    for (let i = 1; i < spans.length; i += 1) {
      expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    }
    // Both nodes compete for the queue (which one wins each run is up to timing).
    for (const row of rows) expect(["node-b", "node-c"]).toContain(row.nodeId);
  }, 300_000);

  it("refuses the late writes of a node frozen past its lease: it stops its stale process and the run completes once, on the other node", async () => {
    const { node, hold, release } = await cluster();
    hold();
    const a = node("node-a");
    const baseA = await a.base;
    const id = await runningSleeper(baseA);
    const b = node("node-b");
    const baseB = await b.base;
    // The first pass printed at least once: its pid is known.
    const firstPid = await waitFor(async () => {
      const line = (await events(baseB, id)).find((row) => row.event.kind === "program_output");
      return line === undefined ? undefined : /pass (\d+)/.exec(line.event.text)?.[1];
    });

    frozen.push(a);
    a.child.kill("SIGSTOP");
    // Node B takes the run over once A's lease expired.
    await waitFor(async () => ((await run(baseB, id)).nodeId === "node-b" ? true : undefined));
    // The failover pass printed: its pid differs.
    await waitFor(async () =>
      (await events(baseB, id)).some(
        (row) => row.event.kind === "program_output" && !row.event.text.includes(firstPid),
      )
        ? true
        : undefined,
    );
    a.child.kill("SIGCONT");
    await waitFor(() => Promise.resolve(/lease lost/.test(a.output()) ? true : undefined));
    // The stale run process is gone (A killed it; nothing of it is left to write).
    await waitFor(() => Promise.resolve(processAlive(Number(firstPid)) ? undefined : true));
    release();

    const done = await terminal(baseB, id);
    expect(done).toMatchObject({ status: "completed", nodeId: "node-b", restarts: 0 });
    const log = await events(baseB, id);
    expect(statuses(log)).toEqual([
      ["queued", undefined],
      ["pending", "first_start"],
      ["running", "first_start"],
      ["pending", "failover"],
      ["running", "failover"],
      ["completed", undefined],
    ]);
    // Nothing of the stale pass was written after the takeover.
    const failover = log.findIndex(
      (row) => row.event.kind === "run_status" && row.event.reason === "failover",
    );
    const stale = log
      .slice(failover)
      .filter((row) => row.event.kind === "program_output" && row.event.text.includes(firstPid));
    expect(stale).toEqual([]);
    const cursors = log.map((row) => row.cursor as number);
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    expect(new Set(cursors).size).toBe(cursors.length);
    // Node A keeps serving, holding nothing.
    expect(await json(`${baseA}/healthz`)).toMatchObject({ node: { id: "node-a", heldRuns: 0 } });
  }, 300_000);

  it("re-attaches a workflows.call child by its key when the parent fails over: the child runs for one call", async () => {
    const { node } = await cluster();
    const a = node("node-a");
    const baseA = await a.base;
    const b = node("node-b");
    const baseB = await b.base;
    const parent: string = (await json(`${baseA}/api/workflows/caller/runs`, { method: "POST" }))
      .run.id;
    const child = await waitFor(async () => {
      const { runs } = await json(`${baseA}/api/runs?workflow=callee`);
      return runs.length > 0 && runs[0].status === "running" ? runs[0] : undefined;
    });
    expect(child.parentRunId).toBe(parent);
    // Kill the parent's node (the child runs there too, or on the other node).
    const holder = (await run(baseA, parent)).nodeId as string;
    const [dead, survivor, survivorId] =
      holder === "node-a" ? [a, baseB, "node-b"] : [b, baseA, "node-a"];
    dead.child.kill("SIGKILL");
    await dead.exit;
    const done = await terminal(survivor, parent);
    expect(done).toMatchObject({
      status: "completed",
      nodeId: survivorId,
      output: { child: { got: { n: 1 } } },
    });
    const { runs: children } = await json(`${survivor}/api/runs?workflow=callee`);
    expect(children.map((row: any) => row.id)).toEqual([child.id]);
    expect(children[0]).toMatchObject({ status: "completed", restarts: 0 });
    expect(statuses(await events(survivor, parent)).map(([, reason]) => reason)).toContain(
      "failover",
    );
  }, 300_000);

  it("cancels a run through a node that does not hold it", async () => {
    const { node, hold } = await cluster();
    hold();
    const a = node("node-a");
    const baseA = await a.base;
    const b = node("node-b");
    const baseB = await b.base;
    const id = await runningSleeper(baseA);
    const holder = (await run(baseA, id)).nodeId as string;
    const other = holder === "node-a" ? baseB : baseA;
    const response = await fetch(`${other}/api/runs/${id}/cancel`, { method: "POST" });
    expect(response.status).toBeLessThan(300);
    const done = await terminal(other, id);
    expect(done).toMatchObject({ status: "cancelled", nodeId: holder });
    expect(statuses(await events(other, id)).map(([status]) => status)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);

    // The run page names the node that ran it.
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      await page.goto(`${other}/#/runs/${id}`);
      await page.waitForSelector(`#run-node:text("${holder}")`);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it("stores an answer sent to a node that does not hold the run, through the holder", async () => {
    const { node } = await cluster();
    const a = node("node-a");
    const baseA = await a.base;
    const b = node("node-b");
    const baseB = await b.base;
    const id: string = (await json(`${baseA}/api/workflows/approve/runs`, { method: "POST" })).run
      .id;
    await waitFor(async () =>
      (await run(baseA, id)).status === "awaiting_input" ? true : undefined,
    );
    const holder = (await run(baseA, id)).nodeId as string;
    const other = holder === "node-a" ? baseB : baseA;
    const answered = await fetch(`${other}/api/runs/${id}/inputs/ship`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"value": {"value": "Ship"}}',
    });
    expect(answered.status).toBe(200);
    const done = await terminal(other, id);
    expect(done).toMatchObject({ status: "completed", nodeId: holder });
    const log = await events(other, id);
    const resolved = log.filter((row) => row.event.kind === "human_input_resolved");
    expect(resolved).toHaveLength(1);
    const cursors = log.map((row) => row.cursor as number);
    expect([...cursors].sort((x, y) => x - y)).toEqual(cursors);
    const second = await fetch(`${other}/api/runs/${id}/inputs/ship`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"value": {"value": "Hold"}}',
    });
    expect(second.status).toBe(404);
  }, 300_000);

  it("fires each cron instant once across nodes", async () => {
    const { node, url } = await cluster(
      {},
      {
        "ticking.mjs": [
          'import { output } from "@promenade/workflow";',
          'export const meta = { slug: "ticking", triggers: [{ kind: "cron", expr: "* * * * * *" }] };',
          'output("tick");',
        ],
      },
    );
    const a = node("node-a");
    const baseA = await a.base;
    const b = node("node-b");
    await b.base;
    await waitFor(async () => {
      const { runs } = await json(`${baseA}/api/runs?workflow=ticking&status=completed&limit=100`);
      return runs.length >= 5 ? true : undefined;
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const fires = await client.query<{ fireTime: string; runs: string }>(
        `SELECT f.fire_time AS "fireTime", count(r.id) AS runs
           FROM cron_fires f JOIN runs r ON r.id = f.run_id GROUP BY f.fire_time`,
      );
      const cronRuns = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM runs WHERE trigger_kind = 'cron'",
      );
      expect(fires.rows.length).toBeGreaterThanOrEqual(5);
      for (const row of fires.rows) expect(Number(row.runs)).toBe(1);
      expect(Number(cronRuns.rows[0]?.n)).toBe(fires.rows.length);
      const times = fires.rows.map((row) => Number(row.fireTime));
      expect(new Set(times).size).toBe(times.length);
    } finally {
      await client.end();
    }
  }, 300_000);

  it("drains on SIGTERM: a run that fits the grace finishes on the node; past the grace it moves to another node", async () => {
    const { node } = await cluster({ PROMENADE_DRAIN_GRACE_MS: "60000" });
    const a = node("node-a");
    const baseA = await a.base;
    const finishing = await runningSleeper(baseA);
    a.child.kill("SIGTERM");
    expect(await a.exit).toBe(0);
    expect(a.output()).toContain("drained: no run left on this node");

    const short = await cluster({ PROMENADE_DRAIN_GRACE_MS: "200" });
    short.hold();
    const c = short.node("node-c");
    const baseC = await c.base;
    const moving = await runningSleeper(baseC);
    const d = short.node("node-d");
    const baseD = await d.base;
    c.child.kill("SIGTERM");
    expect(await c.exit).toBe(0);
    expect(c.output()).toContain("releasing 1 run(s) to another node");
    short.release();
    const moved = await terminal(baseD, moving);
    expect(moved).toMatchObject({ status: "completed", nodeId: "node-d", restarts: 0 });
    expect(statuses(await events(baseD, moving)).map(([, reason]) => reason)).toContain("failover");

    // The first run finished on node A before it exited.
    const b = node("node-b");
    const baseB = await b.base;
    expect(await run(baseB, finishing)).toMatchObject({ status: "completed", nodeId: "node-a" });
  }, 300_000);
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the test reads untyped JSON API bodies */
/**
 * A cluster under fire: three real server processes on one PostgreSQL database run a mixed
 * workload — sleepers, crashers, `workflows.call` parents, event floods, a serial workflow, a cron
 * firing every second and webhooks — while a node picked at random is SIGKILLed and restarted, 30
 * times. Afterwards: every accepted run reached a terminal status once; every run's log has
 * strictly increasing cursors, no duplicate, one terminal status, and a completed flood holds all
 * its events; the serial workflow's runs never overlapped; each cron instant fired once; each
 * `workflows.call` made exactly one child run. If this breaks, a cluster loses, duplicates or
 * double-runs work when nodes die.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, start, stopServers, waitFor } from "./helpers.ts";
import type { Server } from "./helpers.ts";

const KILLS = 30;
const LEASE_MS = "2000";
const HOOK_TOKEN = "chaos-hook-token-0123456789";
const TERMINAL = ["completed", "failed", "cancelled"];
const FLOOD = 300;
/** Run starts let through per kill: about 240 over the test (every sixth a webhook delivery). */
const STARTS_PER_KILL = 8;

let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres.destroy();
});

afterEach(stopServers);

const WORKFLOWS: Record<string, string[]> = {
  "sleeper.mjs": [
    'import { output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "sleeper", triggers: [{ kind: "manual" }] };',
    "for (let i = 0; i < 4; i++) await sleep(250);",
    "output({ slept: true });",
  ],
  "crasher.mjs": [
    'import { output, phase } from "@promenade/workflow";',
    'export const meta = { slug: "crasher", triggers: [{ kind: "manual" }] };',
    'phase("maybe");',
    "if (Math.random() < 0.5) process.exit(3);",
    "output({ survived: true });",
  ],
  "child.mjs": [
    'import { input, output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "child", triggers: [{ kind: "manual" }] };',
    "await sleep(200);",
    "output({ n: input.n });",
  ],
  "parent.mjs": [
    'import { output, workflows } from "@promenade/workflow";',
    'export const meta = { slug: "parent", triggers: [{ kind: "manual" }] };',
    'const first = await workflows.call("child", { n: 1 });',
    'const second = await workflows.call("child", { n: 2 });',
    "output({ sum: first.n + second.n });",
  ],
  "flood.mjs": [
    'import { output, phase } from "@promenade/workflow";',
    'export const meta = { slug: "flood", triggers: [{ kind: "manual" }] };',
    `for (let i = 1; i <= ${String(FLOOD)}; i++) phase(\`p\${i}\`);`,
    "output({ phases: " + String(FLOOD) + " });",
  ],
  "serial.mjs": [
    'import { output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "serial", triggers: [{ kind: "manual" }], concurrency: { mode: "serial" } };',
    "await sleep(150);",
    "output({ ok: true });",
  ],
  "ticker.mjs": [
    'import { output } from "@promenade/workflow";',
    'export const meta = { slug: "ticker", triggers: [{ kind: "cron", expr: "* * * * * *" }] };',
    "output({ tick: true });",
  ],
  "hooked.mjs": [
    'import { input, output } from "@promenade/workflow";',
    'export const meta = { slug: "hooked", triggers: [{ kind: "webhook", auth: "token" }] };',
    "output({ got: input });",
  ],
};

const MANUAL = ["sleeper", "crasher", "parent", "flood", "serial"] as const;

describe("a cluster whose nodes are killed at random", () => {
  it("finishes every accepted run once, loses and duplicates nothing, and keeps serial, cron and child runs exact", async () => {
    const url = await postgres.createDatabase();
    const root = mkdtempSync(join(tmpdir(), "promenade-cluster-chaos-"));
    const workflowsDir = join(root, "workflows");
    mkdirSync(workflowsDir);
    for (const [name, lines] of Object.entries(WORKFLOWS)) {
      writeFileSync(join(workflowsDir, name), [...lines, ""].join("\n"));
    }
    const ids = ["n1", "n2", "n3"];
    const boot = (id: string): Server =>
      start({
        PROMENADE_DATA_DIR: join(root, "shared"),
        PROMENADE_WORK_DIR: join(root, `work-${id}`),
        PROMENADE_WORKFLOWS_DIR: workflowsDir,
        PROMENADE_PORT: "0",
        PROMENADE_DATABASE_URL: url,
        PROMENADE_CLUSTER: "1",
        PROMENADE_NODE_ID: id,
        PROMENADE_LEASE_MS: LEASE_MS,
        PROMENADE_WEBHOOK_TOKEN__HOOKED: HOOK_TOKEN,
      });
    const nodes = new Map<string, { server: Server; base: string | null }>();
    for (const id of ids) {
      const server = boot(id);
      nodes.set(id, { server, base: await server.base });
    }
    const live = (): string[] =>
      [...nodes.values()].flatMap((node) => (node.base === null ? [] : [node.base]));

    // The workload: runs started through whichever nodes are up; accepted = got a run id. Each
    // kill lets a fixed number more start, so the work stays within what the cluster finishes
    // between kills: an open-ended stream would outgrow it on a busy machine, and every restart
    // would then boot on a saturated CPU.
    const accepted: { id: string; slug: string }[] = [];
    let stop = false;
    let allowed = 0;
    const submit = async (): Promise<void> => {
      let turn = 0;
      while (!stop) {
        if (turn >= allowed) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        turn += 1;
        const bases = live();
        const base = bases[turn % bases.length];
        if (base !== undefined) {
          try {
            if (turn % 6 === 0) {
              const res = await fetch(`${base}/hooks/hooked/0`, {
                method: "POST",
                body: JSON.stringify({ turn }),
                headers: {
                  authorization: `Bearer ${HOOK_TOKEN}`,
                  "content-type": "application/json",
                },
              });
              if (res.status === 202)
                accepted.push({ id: ((await res.json()) as any).run.id, slug: "hooked" });
            } else {
              const slug = MANUAL[turn % MANUAL.length]!;
              const res = await fetch(`${base}/api/workflows/${slug}/runs`, { method: "POST" });
              if (res.status === 201)
                accepted.push({ id: ((await res.json()) as any).run.id, slug });
            }
          } catch {
            // The node died under the request: nothing was accepted by it that we know of.
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    };
    const load = submit();

    // 30 kills of a random node, each restarted with its id once it is gone.
    for (let kill = 0; kill < KILLS; kill += 1) {
      allowed += STARTS_PER_KILL;
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 700)));
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const node = nodes.get(id)!;
      node.base = null;
      node.server.child.kill("SIGKILL");
      await node.server.exit;
      const server = boot(id);
      nodes.set(id, { server, base: null });
      nodes.get(id)!.base = await server.base;
    }
    stop = true;
    await load;
    expect(accepted.length).toBeGreaterThan(50);

    // Every accepted run ends, on whichever node.
    const base = live()[0]!;
    const rows = new Map<string, any>();
    for (const { id } of accepted) {
      rows.set(
        id,
        await waitFor(async () => {
          const row = (await json(`${base}/api/runs/${id}`)).run;
          return TERMINAL.includes(row.status as string) ? row : undefined;
        }, 240_000),
      );
    }

    // Each log: strictly increasing cursors, one terminal status, complete floods.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows: allRuns } = await db.query<{ id: string; status: string }>(
        "SELECT id, status FROM runs",
      );
      for (const run of allRuns) {
        const { rows: events } = await db.query<{ cursor: string; event: string }>(
          "SELECT cursor, event FROM run_events WHERE run_id = $1 ORDER BY cursor",
          [run.id],
        );
        const parsed = events.map((row) => JSON.parse(row.event));
        const terminals = parsed.filter(
          (event) => event.kind === "run_status" && TERMINAL.includes(event.status as string),
        );
        if (TERMINAL.includes(run.status)) expect(terminals, run.id).toHaveLength(1);
        expect(parsed[0], run.id).toMatchObject({ kind: "run_status", status: "queued" });
        // Within each pass's turn, cursor order is write order: seq strictly increases. (Events
        // the store stamps on its own, under the run's id, each start a block at seq 1.)
        const lastSeq = new Map<string, number>();
        for (const event of parsed) {
          const turn = String(event.turnId);
          if (turn === run.id) continue;
          const seq = Number(event.seq);
          expect(seq, `${run.id} ${turn}`).toBeGreaterThan(lastSeq.get(turn) ?? 0);
          lastSeq.set(turn, seq);
        }
      }
      for (const { id, slug } of accepted) {
        const row = rows.get(id);
        if (slug === "flood" && row.status === "completed") {
          const { rows: phases } = await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM run_events WHERE run_id = $1 AND event::jsonb ->> 'kind' = 'phase'",
            [id],
          );
          // Every pass writes all its phases before its output: at least one full set.
          expect(Number(phases[0]!.n), id).toBeGreaterThanOrEqual(FLOOD);
        }
        if (slug === "parent") {
          const { rows: children } = await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM runs WHERE parent_run_id = $1",
            [id],
          );
          if (row.status === "completed") {
            expect(row.output, id).toEqual({ sum: 3 });
            expect(Number(children[0]!.n), id).toBe(2);
          } else {
            expect(Number(children[0]!.n), id).toBeLessThanOrEqual(2);
          }
        }
      }

      // Serial: the workflow's runs never overlap (first start to end).
      const serialIds = accepted.filter((run) => run.slug === "serial").map((run) => run.id);
      const { rows: spans } = await db.query<{ started_at: string; ended_at: string }>(
        "SELECT started_at, ended_at FROM runs WHERE id = ANY($1) AND started_at IS NOT NULL ORDER BY started_at",
        [serialIds],
      );
      expect(spans.length).toBeGreaterThan(0);
      for (let i = 1; i < spans.length; i += 1) {
        expect(Number(spans[i]!.started_at)).toBeGreaterThanOrEqual(Number(spans[i - 1]!.ended_at));
      }

      // Cron: each scheduled instant fired once.
      const { rows: fires } = await db.query<{ fire_time: string; n: string }>(
        "SELECT fire_time, count(*) AS n FROM cron_fires GROUP BY workflow_id, trigger_index, fire_time",
      );
      expect(fires.length).toBeGreaterThan(5);
      for (const fire of fires) expect(Number(fire.n), fire.fire_time).toBe(1);
      const { rows: cronRuns } = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM runs WHERE trigger_kind = 'cron'",
      );
      expect(Number(cronRuns[0]!.n)).toBe(fires.length);
    } finally {
      await db.end();
    }
  }, 600_000);
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- the test reads untyped JSON API bodies and WebSocket frames */
/**
 * The `promenade-server` binary on PostgreSQL (`PROMENADE_DATABASE_URL`), against a real,
 * throwaway PostgreSQL server this file starts and stops: the whole server (API, webhooks,
 * WebSocket channel, UI, cron, recovery) on PostgreSQL with run files still in the data dir; a
 * database that cannot be opened is one line and a non-zero exit with nothing written; a
 * database that goes away mid-run is logged, reported by `/healthz`, loses no event a client was
 * told about, and is recovered from without a restart. If this breaks, operators who point the
 * server at PostgreSQL lose runs or get a server that cannot survive a database restart.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { json, start, stopServers, waitFor } from "./helpers.ts";

let postgres: PostgresServer;

beforeAll(async () => {
  postgres = await startPostgres();
});

afterAll(async () => {
  await postgres.destroy();
});

afterEach(stopServers);

const TERMINAL = ["completed", "failed", "cancelled"];

function workspace(files: Record<string, string[]>): { dataDir: string; workflowsDir: string } {
  const root = mkdtempSync(join(tmpdir(), "promenade-bin-pg-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  for (const [name, lines] of Object.entries(files)) {
    writeFileSync(join(workflowsDir, name), [...lines, ""].join("\n"));
  }
  return { dataDir: join(root, "data"), workflowsDir };
}

/** The tables of `public` in the database at `url`. */
async function tablesOf(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    return rows.map((row) => row.table_name);
  } finally {
    await client.end();
  }
}

async function terminalRun(base: string, id: string, timeoutMs = 60_000): Promise<any> {
  return waitFor(async () => {
    const run = (await json(`${base}/api/runs/${id}`)).run;
    return TERMINAL.includes(run.status) ? run : undefined;
  }, timeoutMs);
}

/** A WebSocket subscription to one run that records every event frame it is sent. */
function watchRun(
  base: string,
  runId: string,
): { events: { cursor: number; event: any }[]; ended: Promise<any>; close(): void } {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/ws`);
  const events: { cursor: number; event: any }[] = [];
  let resolveEnd: (frame: any) => void = () => undefined;
  const ended = new Promise<any>((resolve) => (resolveEnd = resolve));
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "subscribe", sub: "s1", runId, verbose: true }));
  });
  ws.addEventListener("message", (message) => {
    const frame = JSON.parse(String(message.data));
    if (frame.type === "event") events.push({ cursor: frame.cursor, event: frame.event });
    if (frame.type === "end") resolveEnd(frame);
  });
  return { events, ended, close: () => ws.close() };
}

describe("promenade-server on PostgreSQL", () => {
  it("serves the API, webhooks, WebSocket, UI and cron from PostgreSQL, keeps run files in the data dir, and recovers after SIGKILL", async () => {
    const url = await postgres.createDatabase();
    const { dataDir, workflowsDir } = workspace({
      "slow.mjs": [
        'import { output, phase, sleep } from "@promenade/workflow";',
        'export const meta = { slug: "slow", triggers: [{ kind: "manual" }] };',
        'phase("working");',
        'console.log("started a slow step");',
        "await sleep(1500);",
        "output({ done: true });",
      ],
      "hooked.mjs": [
        'import { input, output } from "@promenade/workflow";',
        'export const meta = { slug: "hooked", triggers: [{ kind: "webhook", auth: "token" }] };',
        "output({ got: input });",
      ],
      "ticking.mjs": [
        'import { output } from "@promenade/workflow";',
        'export const meta = { slug: "ticking", triggers: [{ kind: "cron", expr: "*/3 * * * * *" }] };',
        'output("tick");',
      ],
    });
    const hookToken = "hook-token-for-postgres-test";
    const env = {
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_DATABASE_URL: url,
      PROMENADE_WEBHOOK_TOKEN__HOOKED: hookToken,
    };
    const first = start(env);
    const base1 = await first.base;
    await waitFor(() =>
      Promise.resolve(first.output().includes("workflows deployed: 3") ? true : undefined),
    );
    const port = String(postgres.port);
    expect(first.output()).toContain(`database: PostgreSQL (127.0.0.1:${port}/`);
    expect(first.output()).not.toContain(postgres.password);
    expect(existsSync(join(dataDir, "promenade.db"))).toBe(false);
    expect(await tablesOf(url)).toEqual(expect.arrayContaining(["workflows", "runs"]));

    // API + WebSocket: every event the channel sent is the persisted one, in cursor order.
    const started = await json(`${base1}/api/workflows/slow/runs`, { method: "POST" });
    const slowId: string = started.run.id;
    const watched = watchRun(base1, slowId);
    const end = await watched.ended;
    watched.close();
    expect(end.status).toBe("completed");
    const persisted = (await json(`${base1}/api/runs/${slowId}/events?verbose=true`)).events;
    expect(watched.events.map((e) => e.cursor)).toEqual(persisted.map((e: any) => e.cursor));
    expect(watched.events.map((e) => e.event)).toEqual(persisted.map((e: any) => e.event));
    expect(existsSync(join(dataDir, "runs", slowId))).toBe(true);

    // Webhook.
    const hook = await fetch(`${base1}/hooks/hooked/0`, {
      method: "POST",
      body: JSON.stringify({ n: 7 }),
      headers: { authorization: `Bearer ${hookToken}`, "content-type": "application/json" },
    });
    expect(hook.status).toBe(202);
    const hookRunId: string = ((await hook.json()) as any).run.id;
    expect((await terminalRun(base1, hookRunId)).output).toEqual({ got: { n: 7 } });

    // Cron.
    const cronRun = await waitFor(async () => {
      const { runs } = await json(`${base1}/api/runs?workflow=ticking&status=completed`);
      return runs.length > 0 ? runs[0] : undefined;
    });
    expect(cronRun.triggerKind).toBe("cron");
    expect(cronRun.output).toBe("tick");

    // Recovery: SIGKILL mid-run, the restarted server completes the run.
    const again = await json(`${base1}/api/workflows/slow/runs`, { method: "POST" });
    const id: string = again.run.id;
    await waitFor(async () =>
      (await json(`${base1}/api/runs/${id}`)).run.status === "running" ? true : undefined,
    );
    first.child.kill("SIGKILL");
    await first.exit;
    const second = start(env);
    const base2 = await second.base;
    expect(second.output()).toMatch(/recovery sweep: restarted [1-9]\d* run\(s\)/);
    const done = await terminalRun(base2, id);
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ done: true });

    // UI: the run log page renders the recovered run from PostgreSQL.
    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base2}/#/runs/${id}`);
      await page.waitForSelector("#run-status .badge[data-status='completed']");
      await page.click("#tab-log");
      // The first pass printed it too, before the SIGKILL: the recovered pass's line is last.
      await page.locator(".line", { hasText: "started a slow step" }).last().waitFor();
    } finally {
      await browser.close();
    }
    expect(existsSync(join(dataDir, "promenade.db"))).toBe(false);
    expect(readdirSync(join(dataDir, "runs"))).toEqual(expect.arrayContaining([slowId, id]));

    second.child.kill("SIGTERM");
    expect(await second.exit).toBe(0);
  }, 300_000);

  it("refuses a bad URL, a wrong password, an unknown database and an unreachable host: one line, exit 1, nothing written", async () => {
    const good = new URL(await postgres.createDatabase());
    const wrongPassword = new URL(good);
    wrongPassword.password = "not-the-password";
    const unknownDatabase = new URL(good);
    unknownDatabase.pathname = "/no_such_database";
    const cases: { url: string; expected: RegExp }[] = [
      { url: "mysql://root:pw@127.0.0.1/x", expected: /must start with postgres:\/\// },
      { url: "postgres://u:pw@127.0.0.1:notaport/x", expected: /not a valid URL/ },
      { url: wrongPassword.toString(), expected: /password authentication failed/ },
      { url: unknownDatabase.toString(), expected: /does not exist.*createdb/ },
      // Port 1 on loopback: nothing listens there.
      { url: "postgres://u:pw@127.0.0.1:1/x", expected: /connection refused/ },
    ];
    // Each case boots its own binary; they run side by side.
    await Promise.all(
      cases.map(async ({ url, expected }) => {
        const root = mkdtempSync(join(tmpdir(), "promenade-bin-pg-bad-"));
        const dataDir = join(root, "data");
        const s = start({
          PROMENADE_DATA_DIR: dataDir,
          PROMENADE_PORT: "0",
          PROMENADE_DATABASE_URL: url,
        });
        expect(await s.exit).toBe(1);
        const lines = s.output().trimEnd().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^promenade-server: /);
        expect(lines[0]).toMatch(expected);
        expect(lines[0]).toContain("PROMENADE_DATABASE_URL");
        for (const secret of ["pw@", "not-the-password", postgres.password]) {
          expect(lines[0]).not.toContain(secret);
        }
        expect(existsSync(dataDir)).toBe(false);
      }),
    );
    // The database the wrong password pointed at is untouched.
    expect(await tablesOf(good.toString())).toEqual([]);
  }, 240_000);

  it("survives a 5 s database outage mid-run: logs it, /healthz says so, loses no event a client saw, recovers without a restart", async () => {
    const url = await postgres.createDatabase();
    const { dataDir, workflowsDir } = workspace({
      "long.mjs": [
        'import { output, phase, sleep } from "@promenade/workflow";',
        'export const meta = { slug: "long", triggers: [{ kind: "manual" }] };',
        "for (let i = 1; i <= 30; i++) { phase(`step-${i}`); await sleep(200); }",
        "output({ steps: 30 });",
      ],
    });
    const s = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_DATABASE_URL: url,
    });
    const base = await s.base;
    const id: string = (await json(`${base}/api/workflows/long/runs`, { method: "POST" })).run.id;
    const watched = watchRun(base, id);
    await waitFor(() =>
      Promise.resolve(
        watched.events.filter((e) => e.event.kind === "phase").length >= 3 ? true : undefined,
      ),
    );

    const health: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        health.push((await fetch(`${base}/healthz`)).status);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await postgres.outage(5000);
    const done = await terminalRun(base, id, 120_000);
    await watched.ended;
    polling = false;
    await poller;
    watched.close();

    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ steps: 30 });
    expect(health).toContain(503);
    expect(health.at(-1)).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const out = s.output();
    expect(out).toContain("database unavailable");
    expect(out).toContain("database available again");
    expect(out).toContain("health check failed: the database is unavailable");

    // Nothing a client was told about is lost: every event frame is persisted, unchanged.
    const persisted = new Map<number, unknown>(
      (await json(`${base}/api/runs/${id}/events?verbose=true`)).events.map((e: any) => [
        e.cursor,
        e.event,
      ]),
    );
    expect(watched.events.length).toBeGreaterThan(3);
    for (const { cursor, event } of watched.events) expect(persisted.get(cursor)).toEqual(event);
    const cursors = [...persisted.keys()];
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1]!)).toBe(true);

    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
  }, 300_000);
});

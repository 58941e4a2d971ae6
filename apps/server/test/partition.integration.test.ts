/* eslint-disable @typescript-eslint/no-explicit-any -- the test reads untyped JSON API bodies */
/**
 * The binary cut off from PostgreSQL by a real network partition: the server runs in a network
 * namespace of the test's own and reaches the database only over a veth link, which the test
 * takes down for several seconds while a run writes events. The server notices and says so,
 * nothing it had written is lost, and once the link is back the run finishes with an unbroken
 * event log and the server is healthy again — with no restart.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createNetns, type Netns } from "./netns.ts";
import { start, stopServers, waitFor } from "./helpers.ts";

const TOKEN = "partition-test-token-0123456789abcdef";
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

async function api(base: string, path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });
  return res.json();
}

describe("a server partitioned from PostgreSQL", () => {
  it("reports the outage, loses nothing, and finishes its run once the link is back", async () => {
    netns = await createNetns();
    const viaLink = await netns.reachHost({ host: postgres.host, port: postgres.port });
    const databaseUrl = new URL(await createDatabase(postgres.url));
    databaseUrl.hostname = viaLink.host;
    databaseUrl.port = String(viaLink.port);

    const root = mkdtempSync(join(tmpdir(), "promenade-partition-"));
    const workflowsDir = join(root, "workflows");
    mkdirSync(workflowsDir);
    // Ticks of 200 ms: 60 phases over about 12 s, so the run is mid-way when the link goes down.
    writeFileSync(
      join(workflowsDir, "ticker.ts"),
      [
        'import { output, phase, sleep } from "@promenade/workflow";',
        'export const meta = { slug: "ticker", triggers: [{ kind: "manual" }] };',
        "for (let i = 1; i <= 60; i++) { phase(`tick ${i}`); await sleep(200); }",
        'output("done");',
        "",
      ].join("\n"),
    );
    const server = start(
      {
        PROMENADE_DATA_DIR: join(root, "data"),
        PROMENADE_WORKFLOWS_DIR: workflowsDir,
        PROMENADE_DATABASE_URL: databaseUrl.href,
        PROMENADE_HOST: netns.nsIp,
        PROMENADE_PORT: "0",
        PROMENADE_API_TOKEN: TOKEN,
      },
      [],
      { prefix: netns.exec },
    );
    const inNode = await server.base;
    expect(inNode.startsWith(`http://${netns.nsIp}:`)).toBe(true);
    const base = await netns.reachNode(inNode);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const started = await api(base, "/api/workflows/ticker/runs", {
      method: "POST",
      body: "{}",
    });
    expect(started, server.output()).toHaveProperty("run.id");
    const run = started.run as { id: string };
    // Mid-run: some ticks are stored.
    await waitFor(async () => {
      const { events } = await api(base, `/api/runs/${run.id}/events`);
      return (events as any[]).filter((row) => row.event.kind === "phase").length >= 5
        ? true
        : undefined;
    });

    netns.cut();
    await waitFor(() =>
      Promise.resolve(server.output().includes("database unavailable") ? true : undefined),
    );
    netns.restore();
    await waitFor(() =>
      Promise.resolve(server.output().includes("database available again") ? true : undefined),
    );

    const done = await waitFor<{ status: string }>(async () => {
      const found = (await api(base, `/api/runs/${run.id}`)).run as { status: string };
      return ["completed", "failed", "cancelled"].includes(found.status) ? found : undefined;
    });
    expect(done).toMatchObject({ status: "completed", output: "done" });
    const { events } = await api(base, `/api/runs/${run.id}/events`);
    const phases = (events as any[])
      .filter((row) => row.event.kind === "phase")
      .map((row) => row.event.name as string);
    expect(phases).toEqual(Array.from({ length: 60 }, (_, i) => `tick ${String(i + 1)}`));
    const cursors = (events as any[]).map((row) => row.cursor as number);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

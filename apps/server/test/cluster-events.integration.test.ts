/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call -- the test reads untyped JSON API bodies and WebSocket frames */
/**
 * Live events across the nodes of a cluster: three real server processes on one PostgreSQL
 * database. A WebSocket client on a node that does not hold a run follows it live while another
 * node executes it, disconnects mid-run, and resumes after its last cursor on the third node: the
 * union of the frames it got is the stored log, each event exactly once, in cursor order. The
 * all-runs feed of a node sees the lifecycle of a run another node executes. If this breaks,
 * a run page or a client shows a cluster's runs with gaps, repeats, or not at all.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "@promenade/store/testing";
import type { PostgresServer } from "@promenade/store/testing";
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

/** Three nodes of one cluster on a fresh database; their base URLs by node id. */
async function threeNodes(): Promise<Record<"a" | "b" | "c", string>> {
  const url = await postgres.createDatabase();
  const root = mkdtempSync(join(tmpdir(), "promenade-cluster-events-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  // 80 phases and log lines over about 8 s: long enough to switch nodes mid-run.
  writeFileSync(
    join(workflowsDir, "chatty.mjs"),
    [
      'import { output, phase, sleep } from "@promenade/workflow";',
      'export const meta = { slug: "chatty", triggers: [{ kind: "manual" }] };',
      "for (let i = 1; i <= 80; i++) {",
      "  phase(`step ${i}`);",
      "  console.log(`line ${i}`);",
      "  await sleep(100);",
      "}",
      "output({ done: true });",
      "",
    ].join("\n"),
  );
  const bases: Record<string, string> = {};
  for (const id of ["a", "b", "c"]) {
    const node = start({
      PROMENADE_DATA_DIR: join(root, "shared-data"),
      PROMENADE_WORK_DIR: join(root, `work-${id}`),
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_DATABASE_URL: url,
      PROMENADE_CLUSTER: "1",
      PROMENADE_NODE_ID: id,
    });
    bases[id] = await node.base;
  }
  return bases;
}

/** A WebSocket on `base` following `runId` after `after`; records every event frame. */
function follow(
  base: string,
  runId: string,
  after: number,
): { events: { cursor: number; event: any }[]; ended: Promise<any>; close(): void } {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/ws`);
  const events: { cursor: number; event: any }[] = [];
  let resolveEnd: (frame: any) => void = () => undefined;
  const ended = new Promise<any>((resolve) => (resolveEnd = resolve));
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "subscribe", sub: "s", runId, after, verbose: true }));
  });
  ws.addEventListener("message", (message) => {
    const frame = JSON.parse(String(message.data));
    if (frame.type === "event") events.push({ cursor: frame.cursor, event: frame.event });
    if (frame.type === "end") resolveEnd(frame);
  });
  return { events, ended, close: () => ws.close() };
}

describe("live events across cluster nodes", () => {
  it("follow a run from a node that does not hold it, and resume on a third node after the last cursor", async () => {
    const nodes = await threeNodes();
    const started = await json(`${nodes.b}/api/workflows/chatty/runs`, { method: "POST" });
    const runId: string = started.run.id;
    const holder = await waitFor(async () => {
      const run = (await json(`${nodes.b}/api/runs/${runId}`)).run;
      return run.status === "running" && typeof run.nodeId === "string" ? run.nodeId : undefined;
    });
    const others = (["a", "b", "c"] as const).filter((id) => id !== holder);
    const [first, second] = [nodes[others[0]!], nodes[others[1]!]];

    // Follow on a node that does not execute the run, until a good part of it has arrived.
    const before = follow(first, runId, 0);
    await waitFor(() =>
      Promise.resolve(
        before.events.filter((e) => e.event.kind === "phase").length >= 20 ? true : undefined,
      ),
    );
    before.close();
    const last = before.events.at(-1)!.cursor;
    const stillRunning = (await json(`${first}/api/runs/${runId}`)).run;
    expect(TERMINAL).not.toContain(stillRunning.status);

    // Resume on the third node after the last cursor seen.
    const after = follow(second, runId, last);
    const end = await after.ended;
    after.close();
    expect(end.status).toBe("completed");

    const stored = (await json(`${second}/api/runs/${runId}/events?verbose=true&limit=5000`))
      .events;
    const union = [...before.events, ...after.events];
    expect(union.map((e) => e.cursor)).toEqual(stored.map((e: any) => e.cursor));
    expect(union.map((e) => e.event)).toEqual(stored.map((e: any) => e.event));
    expect(
      union.filter((e) => e.event.kind === "phase").map((e) => e.event.name as string),
    ).toEqual(Array.from({ length: 80 }, (_, i) => `step ${String(i + 1)}`));
  });

  it("show a run another node executes in every node's all-runs feed", async () => {
    const nodes = await threeNodes();
    const ws = new WebSocket(`${nodes.a.replace("http", "ws")}/api/ws`);
    const frames: any[] = [];
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "subscribe_runs", sub: "all" }));
    });
    ws.addEventListener("message", (message) => frames.push(JSON.parse(String(message.data))));
    await waitFor(() =>
      Promise.resolve(frames.some((frame) => frame.type === "runs_snapshot") ? true : undefined),
    );
    const started = await json(`${nodes.c}/api/workflows/chatty/runs`, { method: "POST" });
    const runId: string = started.run.id;
    const seen = await waitFor(() => {
      const statuses = frames
        .filter((frame) => frame.run?.id === runId)
        .map((frame) => frame.run.status as string);
      return Promise.resolve(statuses.includes("completed") ? statuses : undefined);
    }, 120_000);
    ws.close();
    // Each frame carries the run as read after its change: the last one is the final state.
    expect(seen.at(-1)).toBe("completed");
  });
});

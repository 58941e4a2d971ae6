/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- the test reads untyped JSON API bodies */
/**
 * Human input across the nodes of a cluster: a run waits for a person on one node, the answer
 * arrives through another. The holder's waiting call gets it promptly, the run completes with it,
 * and the run's log records the request and its answer once each, in cursor order, with nothing
 * written into the run by the node that took the answer. A second answer through a third node is
 * a conflict. If this breaks, a cluster's runs wait forever for answers already given, or their
 * event logs go out of order.
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

describe("human input across cluster nodes", () => {
  it("wakes the holder's waiting call with an answer given through another node", async () => {
    const url = await postgres.createDatabase();
    const root = mkdtempSync(join(tmpdir(), "promenade-cluster-input-"));
    const workflowsDir = join(root, "workflows");
    mkdirSync(workflowsDir);
    writeFileSync(
      join(workflowsDir, "approval.mjs"),
      [
        'import { humanInput, output, phase } from "@promenade/workflow";',
        'export const meta = { slug: "approval", triggers: [{ kind: "manual" }] };',
        'phase("before");',
        'const decision = await humanInput({ key: "ship", prompt: "Ship it?", input: { kind: "choice", options: ["Ship", "Hold"] } });',
        'phase("after");',
        "output({ decision });",
        "",
      ].join("\n"),
    );
    const bases: Record<string, string> = {};
    for (const id of ["a", "b", "c"]) {
      bases[id] = await start({
        PROMENADE_DATA_DIR: join(root, "shared"),
        PROMENADE_WORK_DIR: join(root, `work-${id}`),
        PROMENADE_WORKFLOWS_DIR: workflowsDir,
        PROMENADE_PORT: "0",
        PROMENADE_DATABASE_URL: url,
        PROMENADE_CLUSTER: "1",
        PROMENADE_NODE_ID: id,
      }).base;
    }

    const started = await json(`${bases.a!}/api/workflows/approval/runs`, { method: "POST" });
    const runId: string = started.run.id;
    const holder: string = await waitFor(async () => {
      const run = (await json(`${bases.a!}/api/runs/${runId}`)).run;
      return run.status === "awaiting_input" ? run.nodeId : undefined;
    });
    const [other, third] = ["a", "b", "c"].filter((id) => id !== holder);

    const answered = await fetch(`${bases[other!]!}/api/runs/${runId}/inputs/ship`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: { value: "Ship", isOther: false } }),
    });
    expect(answered.status).toBe(200);
    const again = await fetch(`${bases[third!]!}/api/runs/${runId}/inputs/ship`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: { value: "Hold", isOther: false } }),
    });
    expect([404, 409]).toContain(again.status);

    const done = await waitFor(async () => {
      const run = (await json(`${bases[third!]!}/api/runs/${runId}`)).run;
      return TERMINAL.includes(run.status as string) ? run : undefined;
    });
    expect(done).toMatchObject({
      status: "completed",
      output: { decision: { value: "Ship" } },
      nodeId: holder,
    });
    expect(done.restarts).toBe(0);

    const { events } = await json(
      `${bases[third!]!}/api/runs/${runId}/events?verbose=true&limit=5000`,
    );
    const rows = events as any[];
    const cursors = rows.map((row) => row.cursor as number);
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    const kinds = rows
      .map((row) => row.event.kind as string)
      .filter((kind) => kind.startsWith("human_input") || kind === "phase");
    expect(kinds).toEqual(["phase", "human_input_requested", "human_input_resolved", "phase"]);
    const resolved = rows.find((row) => row.event.kind === "human_input_resolved");
    expect(resolved.event).toMatchObject({ key: "ship" });
    const statuses = rows
      .filter((row) => row.event.kind === "run_status")
      .map((row) => row.event.status as string);
    expect(statuses).toEqual([
      "queued",
      "pending",
      "running",
      "awaiting_input",
      "running",
      "completed",
    ]);
  });
});

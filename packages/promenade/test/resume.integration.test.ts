/**
 * `promenade logs --follow` across dropped connections: the CLI talks to a real server through
 * a TCP proxy that cuts every connection twice mid-run; the CLI must reconnect, resume from its
 * cursor, and print exactly the stored log — nothing lost, nothing twice, in cursor order. If
 * this breaks, a flaky network silently drops or duplicates log lines.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STEPS } from "./fixtures.ts";
import {
  cli,
  killChildren,
  spawnCli,
  startProxy,
  startServer,
  waitFor,
  writeFiles,
} from "./helpers.ts";
import type { CuttableProxy } from "./helpers.ts";

let url = "";
let proxy: CuttableProxy | undefined;

// Starts a server process and deploys: slow on a loaded machine.
beforeAll(async () => {
  url = await startServer().url;
  proxy = await startProxy(url);
  const dir = writeFiles({ "steps.ts": STEPS });
  const deployed = await cli(["deploy", "steps.ts"], { env: { PROMENADE_URL: url }, cwd: dir });
  expect(deployed.code).toBe(0);
}, 120_000);
afterAll(async () => {
  killChildren();
  await proxy?.close();
});

/** Every stored event of a run (all channels), paged from the API. */
async function storedLog(runId: string): Promise<{ cursor: number; event: unknown }[]> {
  const rows: { cursor: number; event: unknown }[] = [];
  let after = 0;
  for (;;) {
    const res = await fetch(`${url}/api/runs/${runId}/events?verbose=true&after=${after}`);
    const body = (await res.json()) as {
      events: { cursor: number; event: unknown }[];
      nextCursor: number | null;
    };
    rows.push(...body.events.map((e) => ({ cursor: e.cursor, event: e.event })));
    if (body.nextCursor === null) return rows;
    after = body.nextCursor;
  }
}

describe("logs --follow over a dropped connection", () => {
  it("resumes by cursor without losing or repeating an event", async () => {
    const env = { PROMENADE_URL: url };
    const live = spawnCli(["run", "steps", "--input", '{"steps":600,"delayMs":100}'], { env });
    const liveId = await waitFor(() => /started run ([0-9A-Z]{26})/.exec(live.stderr())?.[1]);
    const logs = spawnCli(["logs", liveId, "--follow", "--json"], {
      env: { PROMENADE_URL: proxy?.url ?? "" },
    });
    const lines = (): number => logs.stdout().split("\n").length - 1;
    const grown = async (by: number): Promise<void> => {
      const from = lines();
      await waitFor(() => (lines() >= from + by ? true : undefined));
    };
    // Cut only once the CLI is connected again: between a cut and its reconnect, lines can still
    // grow from what it had already received.
    const connected = (): Promise<true> =>
      waitFor(() => ((proxy?.connections() ?? 0) > 0 ? true : undefined));
    await grown(8);
    await connected();
    expect(proxy?.cut()).toBeGreaterThan(0);
    await grown(10);
    await connected();
    expect(proxy?.cut()).toBeGreaterThan(0);
    await grown(10);
    // Both cuts happened while the run was still going; end it now.
    expect((await cli(["cancel", liveId], { env })).code).toBe(0);

    expect(await logs.exit).toBe(130);
    expect(await live.exit).toBe(130);
    const printed = logs
      .stdout()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { runId: string; cursor: number; event: unknown });
    const stored = await storedLog(liveId);
    expect(printed.map((row) => row.cursor)).toEqual(stored.map((row) => row.cursor));
    expect(printed.map((row) => row.event)).toEqual(stored.map((row) => row.event));
    expect(printed.every((row) => row.runId === liveId)).toBe(true);
    expect(logs.stderr().match(/connection lost/g)?.length).toBe(2);
  });
});

/**
 * Workflow versions across a server crash, with the binary as a real process on a real database
 * file: a run sleeping when its workflow is redeployed, then SIGKILLed with the server, completes
 * after the restart on the program it started with; a new run executes the new version; the API
 * lists both versions. Each program outputs its own tag, so the output proves which one ran.
 * What would break without it: a run resumed after a deploy switching to code it never started
 * with.
 */
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, terminalRun, waitFor, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const program = (body: string): string =>
  [
    'import { output, sleep } from "@promenade/workflow";',
    'export const meta = { slug: "tagged", triggers: [{ kind: "manual" }] };',
    body,
    "",
  ].join("\n");
const V1 = program('await sleep(3000);\noutput("v1");');
const V2 = program('output("v2");');

interface RunView {
  id: string;
  status: string;
  output: unknown;
  version: number | null;
}

async function post(url: string, body: unknown): Promise<{ run: RunView }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as { run: RunView };
}

describe("workflow versions across a server crash", () => {
  it("a run redeployed under and SIGKILLed completes on its own version after the restart", async () => {
    const { dataDir } = workspaceWith({});
    const env = { PROMENADE_DATA_DIR: dataDir, PROMENADE_PORT: "0" };
    const first = start(env);
    const base1 = await first.base;
    await post(`${base1}/api/workflows`, { program: V1 });
    const started = (await post(`${base1}/api/workflows/tagged/runs`, {})).run;
    expect(started.version).toBe(1);
    await waitFor(async () => {
      const run = (await json(`${base1}/api/runs/${started.id}`)).run as RunView;
      return run.status === "running" ? run : undefined;
    });
    await post(`${base1}/api/workflows`, { program: V2 });
    first.child.kill("SIGKILL");
    await first.exit;

    const second = start(env);
    const base2 = await second.base;
    const resumed = await terminalRun<RunView>(base2, started.id);
    expect(resumed).toMatchObject({ status: "completed", output: "v1", version: 1 });

    const fresh = (await post(`${base2}/api/workflows/tagged/runs`, {})).run;
    expect(fresh.version).toBe(2);
    expect(await terminalRun<RunView>(base2, fresh.id)).toMatchObject({
      status: "completed",
      output: "v2",
    });

    const { versions } = (await json(`${base2}/api/workflows/tagged/versions`)) as {
      versions: { number: number; current: boolean }[];
    };
    expect(versions.map((v) => v.number)).toEqual([2, 1]);
    expect(versions[0]?.current).toBe(true);
  });
});

/**
 * Workflow versions in the JSON API, against the fake engine over real loopback HTTP: the
 * versions route lists newest first, a run shows its version, a run-start body can pick a
 * version, and an unknown or malformed version is refused with a clear message. If these
 * break, clients cannot tell which program a run executes or pin one.
 */
import { afterEach, describe, expect, it } from "vitest";
import { http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

async function twoVersions(): Promise<Harness> {
  h = await startHarness({}, { behaviors: { echo: async () => Promise.resolve("done") } });
  h.engine.addWorkflow({ slug: "echo" });
  h.engine.addWorkflow({ slug: "echo" }, { tone: "calm" });
  h.engine.addWorkflow({ slug: "echo" }, { tone: "calm" });
  return h;
}

describe("workflow versions", () => {
  it("lists a workflow's versions newest first, the newest current", async () => {
    await twoVersions();
    const r = await http(h, "GET", "/api/workflows/echo/versions");
    expect(r.status).toBe(200);
    expect(r.json.versions).toEqual([
      {
        number: 2,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        deployedAt: expect.any(Number),
        current: true,
      },
      {
        number: 1,
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        deployedAt: expect.any(Number),
        current: false,
      },
    ]);
    const missing = await http(h, "GET", "/api/workflows/ghost/versions");
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("NOT_FOUND");
  });

  it("starts runs on the current version or on the one the body names, and shows it on the run", async () => {
    await twoVersions();
    const current = await http(h, "POST", "/api/workflows/echo/runs", { body: "{}" });
    expect(current.status).toBe(201);
    expect(current.json.run.version).toBe(2);
    const pinned = await http(h, "POST", "/api/workflows/echo/runs", {
      body: '{"input":{"n":1},"version":1}',
    });
    expect(pinned.status).toBe(201);
    expect(pinned.json.run).toMatchObject({ version: 1, input: { n: 1 } });
    const got = await http(h, "GET", `/api/runs/${String(pinned.json.run.id)}`);
    expect(got.json.run.version).toBe(1);
  });

  it("refuses an unknown version (404) and a malformed one (400), starting nothing", async () => {
    await twoVersions();
    const unknown = await http(h, "POST", "/api/workflows/echo/runs", { body: '{"version":9}' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({
      code: "NOT_FOUND",
      message: "Workflow echo has no version 9.",
    });
    for (const bad of ['"1"', "0", "1.5", "null"]) {
      const r = await http(h, "POST", "/api/workflows/echo/runs", { body: `{"version":${bad}}` });
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("VALIDATION");
      expect(r.json.error.message).toContain("version: expected a version number");
    }
    expect(await h.engine.listRuns({ limit: 10 })).toHaveLength(0);
  });
});

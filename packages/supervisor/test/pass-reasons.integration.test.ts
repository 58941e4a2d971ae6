// Why each pass started: every `pending` that opens a pass and every `running` of that pass
// carry `reason` — `first_start` for a run found `queued`, `crash_restart` after its process
// died, `engine_restart` for a run an earlier supervisor left behind — so a trace never has to
// guess. Other statuses carry none. Real run processes over the asynchronous in-memory store.
import { afterEach, describe, expect, it } from "vitest";
import { RunSupervisor } from "../src/index.ts";
import { childEntryPath, createHarness, sourceLaunch, until } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** Each `run_status` as `status` or `status:reason`. */
function statusesWithReasons(runId: string): string[] {
  return h.events(runId).flatMap((row) => {
    if (row.event.kind !== "run_status") return [];
    const { status, reason } = row.event;
    return [reason === undefined ? status : `${status}:${reason}`];
  });
}

describe("the reason a pass started", () => {
  it("stamps first_start on the pending and running of a run's first pass", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, 'output("hi");');
    const row = await h.run("echo");
    expect(row.status).toBe("completed");
    expect(statusesWithReasons(row.id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "completed",
    ]);
  });

  it("stamps crash_restart on the pass after the run process crashed", async () => {
    h = createHarness();
    h.deploy(
      { slug: "flaky" },
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'if (!existsSync("marker")) { writeFileSync("marker", "1"); process.exit(7); }',
        'output("recovered");',
      ].join("\n"),
    );
    const row = await h.run("flaky");
    expect(row).toMatchObject({ status: "completed", restarts: 1 });
    expect(statusesWithReasons(row.id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "pending:crash_restart",
      "running:crash_restart",
      "completed",
    ]);
  });

  it("stamps engine_restart on the pass the boot recovery sweep starts for a run left running", async () => {
    h = createHarness();
    h.deploy({ slug: "sleeper" }, 'await sleep(1500); output("slept");');
    const id = await h.create("sleeper");
    const first = h.supervisor.supervise(id);
    await until(() => h.statuses(id).includes("running"));
    await h.supervisor.shutdown(1000);
    await expect(first).rejects.toMatchObject({ code: "INTERNAL" });

    const second = new RunSupervisor({
      store: h.store,
      dataDir: h.dataDir,
      childEntryPath,
      launch: sourceLaunch,
      env: new Map(),
      processEnv: {},
      envLabel: "test",
      priceUsage: () => 0,
      log: () => undefined,
    });
    try {
      const queued = await h.create("sleeper");
      expect((await second.recoverOnBoot()).resumed).toEqual([id, queued]);
      const [recovered, fresh] = await Promise.all([
        second.supervise(id),
        second.supervise(queued),
      ]);
      expect(recovered).toMatchObject({ status: "completed", restarts: 0 });
      expect(statusesWithReasons(id)).toEqual([
        "queued",
        "pending:first_start",
        "running:first_start",
        "pending:engine_restart",
        "running:engine_restart",
        "completed",
      ]);
      // A run the sweep left queued is a first start when it is dispatched.
      expect(fresh.status).toBe("completed");
      expect(statusesWithReasons(queued)).toEqual([
        "queued",
        "pending:first_start",
        "running:first_start",
        "completed",
      ]);
    } finally {
      await second.shutdown();
    }
  });

  it("keeps the pass's reason on the running that follows awaiting_input", async () => {
    h = createHarness();
    h.deploy(
      { slug: "approve" },
      'output(await humanInput({ key: "ship", prompt: "Ship it?", input: { kind: "choice", options: ["Ship", "Hold"] } }));',
    );
    const id = await h.create("approve");
    const done = h.supervisor.supervise(id);
    await until(() => h.store.peek.run(id)?.status === "awaiting_input");
    await h.supervisor.respondToInput(id, "ship", { value: "Ship", isOther: false });
    expect((await done).status).toBe("completed");
    expect(statusesWithReasons(id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "awaiting_input",
      "running:first_start",
      "completed",
    ]);
  });
});

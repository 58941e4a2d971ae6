// The supervisor against the real SQLite store of @promenade/store (a development dependency
// only): the contract suite, then a run end to end over the synchronous store — the pieces the
// engine composes. The engine runs the same contract suite against every backend.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "@promenade/store";
import type { Store } from "@promenade/store";
import { RunSupervisor } from "../src/index.ts";
import type { SupervisorStore } from "../src/index.ts";
import { describeSupervisorStore } from "../src/testing/index.ts";
import { childEntryPath, manifestOf, programOf, sourceLaunch } from "./harness.ts";

describeSupervisorStore(() => {
  const store = openStore({ path: ":memory:" });
  return {
    store,
    addWorkflow: (args) => store.upsertWorkflow(args),
    subscribe: (listener) => store.subscribe(listener),
    close: () => store.close(),
  };
});

describe("RunSupervisor over the SQLite store", () => {
  let dataDir = "";
  let store: Store | undefined;
  afterEach(() => {
    store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs a program to completion with a crash restart and persists every event", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-sqlite-"));
    store = openStore({ path: join(dataDir, "promenade.db") });
    const forSupervisor: SupervisorStore = store;
    const supervisor = new RunSupervisor({
      store: forSupervisor,
      dataDir,
      childEntryPath,
      launch: sourceLaunch,
      env: new Map(),
      processEnv: {},
      envLabel: "test",
      priceUsage: () => 0,
      log: () => undefined,
    });
    const meta = { slug: "flaky", triggers: [{ kind: "manual" }] };
    const workflow = store.upsertWorkflow({
      slug: "flaky",
      manifest: manifestOf(meta),
      program: programOf(
        meta,
        [
          'import { existsSync, writeFileSync } from "node:fs";',
          'phase("start"); console.log("hello");',
          'if (!existsSync("marker")) { writeFileSync("marker", "1"); process.exit(2); }',
          "output({ echoed: input });",
        ].join("\n"),
      ),
    });
    const sqlite = store;
    const published: number[] = [];
    sqlite.subscribe((event) => published.push(event.cursor));
    const { run } = sqlite.createRun({
      workflowId: workflow.id,
      triggerKind: "manual",
      input: { n: 1 },
    });
    const id = run.id;
    const row = await supervisor.supervise(id);
    expect(row).toMatchObject({ status: "completed", output: { echoed: { n: 1 } }, restarts: 1 });
    const events = sqlite.listEvents(id);
    expect(
      events
        .filter((e) => e.event.kind === "run_status")
        .map((e) => (e.event.kind === "run_status" ? e.event.status : "")),
    ).toEqual(["queued", "pending", "running", "pending", "running", "completed"]);
    expect(events.filter((e) => e.event.kind === "phase")).toHaveLength(2);
    expect(published).toEqual(events.map((e) => e.cursor));
    await supervisor.shutdown();
  });
});

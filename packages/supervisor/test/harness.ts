/**
 * Integration-test harness: a temp data dir, the in-memory store (asynchronous: every call is a
 * promise settled on a later macrotask), a `RunSupervisor` whose run processes execute the child
 * runtime from TypeScript sources, and helpers to deploy programs and start runs the way the
 * engine does (`createRun`, which writes the run's `queued` event, then `supervise`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonValue } from "@promenade/workflow";
import { RunSupervisor } from "../src/index.ts";
import type { EventRow, RunRow, SupervisorOptions, WorkflowRow } from "../src/index.ts";
import { createLaunch, createSpawnerLaunch } from "../src/launch.ts";
import { createInMemorySupervisorStore } from "../src/testing/index.ts";
import type { InMemorySupervisorStore } from "../src/testing/index.ts";

export const childEntryPath = fileURLToPath(new URL("./fixtures/child-entry.ts", import.meta.url));
/** Run processes created by the spawner process (the default launch), from TypeScript sources. */
export const sourceLaunch = createSpawnerLaunch({ execArgv: ["--conditions=@promenade/source"] });
/** The same, spawned directly by the test process. */
export const directSourceLaunch = createLaunch({ execArgv: ["--conditions=@promenade/source"] });

export interface Harness {
  dataDir: string;
  store: InMemorySupervisorStore;
  supervisor: RunSupervisor;
  logs: string[];
  deploy(
    meta: Record<string, unknown>,
    body: string,
    config?: Record<string, JsonValue>,
  ): WorkflowRow;
  create(slug: string, input?: JsonValue): Promise<string>;
  run(slug: string, input?: JsonValue): Promise<RunRow>;
  statuses(runId: string): string[];
  kinds(runId: string): string[];
  events(runId: string): EventRow[];
  /** What the run's program printed (both streams, or `stream` only), in order, joined. */
  printed(runId: string, stream?: "stdout" | "stderr"): string;
  close(): Promise<void>;
}

/** The manifest defaults the SDK applies on parse. */
export function manifestOf(meta: Record<string, unknown>): WorkflowRow["manifest"] {
  return {
    triggers: [{ kind: "manual" }],
    concurrency: { mode: "unlimited" },
    runs_on: "boardwalk/linux",
    callable_by: "anyone_in_org",
    ...meta,
  } as unknown as WorkflowRow["manifest"];
}

/** A single-file program: `meta` literal plus a body that may use every SDK export. */
export function programOf(meta: Record<string, unknown>, body: string): string {
  return [
    `import { agent, artifacts, config, humanInput, input, output, parallel, phase, Phase, secrets, sleep, workflows } from "@promenade/workflow";`,
    `export const meta = ${JSON.stringify(meta)};`,
    body,
  ].join("\n");
}

export function createHarness(options: Partial<SupervisorOptions> = {}): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-"));
  const store = createInMemorySupervisorStore();
  const logs: string[] = [];
  const supervisor = new RunSupervisor({
    store,
    dataDir,
    childEntryPath,
    env: new Map(),
    processEnv: {},
    envLabel: "the test environment",
    launch: sourceLaunch,
    log: (line) => logs.push(line),
    cancelGraceMs: 250,
    priceUsage: () => 1,
    ...options,
  });
  const harness: Harness = {
    dataDir,
    store,
    supervisor,
    logs,
    deploy(meta, body, config) {
      const slug = String(meta.slug ?? meta.name);
      return store.addWorkflow({
        slug,
        manifest: manifestOf({ ...meta, slug }),
        program: programOf(meta, body),
        ...(config === undefined ? {} : { config }),
      });
    },
    async create(slug, input) {
      const workflow = store.peek.workflow(slug);
      if (workflow === null) throw new Error(`not deployed: ${slug}`);
      const { run } = await store.createRun({
        workflowId: workflow.id,
        triggerKind: "manual",
        ...(input === undefined ? {} : { input }),
      });
      return run.id;
    },
    async run(slug, input) {
      return supervisor.supervise(await harness.create(slug, input));
    },
    events: (runId) => store.peek.events(runId),
    statuses: (runId) =>
      store.peek
        .events(runId)
        .flatMap((row) => (row.event.kind === "run_status" ? [row.event.status] : [])),
    kinds: (runId) => store.peek.events(runId).map((row) => row.event.kind),
    printed: (runId, stream) =>
      store.peek
        .events(runId)
        .flatMap(({ event }) =>
          event.kind === "program_output" && (stream === undefined || event.stream === stream)
            ? [event.text]
            : [],
        )
        .join(""),
    async close() {
      await supervisor.shutdown(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/**
 * Polls `check` every 10 ms until it holds; throws "condition not met in time" after
 * `timeoutMs` (default 60 s: conditions often wait on several run processes starting one after
 * another from TypeScript sources, which takes seconds each on a loaded 2-core machine).
 */
export async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

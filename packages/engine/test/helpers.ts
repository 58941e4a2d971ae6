/**
 * Shared fixtures for the engine's integration tests: a temp data dir, an engine whose run
 * processes execute the built run-process entry (`dist/run/child.js`, as shipped: the integration
 * tests run after the build, and a run process from sources costs several times the CPU), program
 * builders and event-stream readers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "../src/index.ts";
import type { EngineOptions, RunRow } from "../src/index.ts";

/** The built run-process entry. */
export const CHILD_ENTRY = fileURLToPath(new URL("../dist/run/child.js", import.meta.url));

/**
 * `processEnv` for run processes: this process's environment without NODE_OPTIONS (the test
 * runner's source condition would make the built entry load the workspace's TypeScript sources).
 */
export function childProcessEnv(
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  const { NODE_OPTIONS: _ignored, ...rest } = process.env;
  return { ...rest, ...extra };
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = "promenade-engine-"): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** An engine over `dataDir` with a short cancel grace (`cancelGraceMs: 250`), logs captured. */
export function makeEngine(
  dataDir: string,
  overrides: Partial<EngineOptions> = {},
): { engine: Engine; logs: string[] } {
  const logs: string[] = [];
  const engine = new Engine({
    dataDir,
    cancelGraceMs: 250,
    childEntryPath: CHILD_ENTRY,
    processEnv: childProcessEnv(),
    log: (line) => logs.push(line),
    ...overrides,
  });
  return { engine, logs };
}

/**
 * A single-file program: `import { … } from "<sdk>"`, the `meta` literal, then `body`.
 * `names` are the SDK exports the body uses.
 */
export function program(
  meta: Record<string, unknown>,
  body: string,
  options: { sdk?: string; names?: string[] } = {},
): string {
  const names = options.names ?? [
    "output",
    "input",
    "config",
    "phase",
    "sleep",
    "secrets",
    "workflows",
    "artifacts",
  ];
  const sdk = options.sdk ?? "@promenade/workflow";
  return [
    `import { ${names.join(", ")} } from ${JSON.stringify(sdk)};`,
    `export const meta = ${JSON.stringify(meta)};`,
    body,
    "",
  ].join("\n");
}

/** Meta for a manually triggered workflow, merged with `extra`. */
export function manualMeta(
  slug: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { slug, triggers: [{ kind: "manual" }], ...extra };
}

/** The `run_status` statuses of a run's persisted stream, in order. */
export function statuses(engine: Engine, runId: string): string[] {
  return engine.store
    .listEvents(runId)
    .flatMap((row) => (row.event.kind === "run_status" ? [row.event.status] : []));
}

/** The event kinds of a run's persisted stream, in order. */
export function kinds(engine: Engine, runId: string): string[] {
  return engine.store.listEvents(runId).map((row) => row.event.kind);
}

/** True when the run's cursors are strictly increasing. */
export function cursorsIncrease(engine: Engine, runId: string): boolean {
  const cursors = engine.store.listEvents(runId).map((row) => row.cursor);
  return cursors.every((cursor, index) => index === 0 || cursor > (cursors[index - 1] ?? 0));
}

/** Resolves once the run reaches `status` (polls the store; for set-up steps, not assertions). */
export async function waitForStatus(
  engine: Engine,
  runId: string,
  status: RunRow["status"],
  timeoutMs = 20_000,
): Promise<RunRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = engine.store.getRun(runId);
    if (run?.status === status) return run;
    if (Date.now() > deadline) {
      throw new Error(`run ${runId} did not reach ${status} (now ${run?.status ?? "missing"})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * The `inference` engine option for one keyless OpenAI-compatible provider named `local` at
 * `baseUrl` (a fake provider from `@promenade/agent/testing`), default model `test-model`.
 */
export function localInference(baseUrl: string): NonNullable<EngineOptions["inference"]> {
  return {
    default_provider: "local",
    default_model: "test-model",
    providers: { local: { base_url: baseUrl } },
  };
}

/** `deployManual`'s arguments after the engine and SDK names: slug, body, meta extras, skills. */
export type ManualDeployArgs = [
  slug: string,
  body: string,
  extra?: Record<string, unknown>,
  skills?: Record<string, string>,
];

/**
 * Deploys a manually triggered workflow whose program imports the SDK exports `names`, with
 * `extra` merged into its meta and optional `skills`.
 */
export function deployManual(
  engine: Engine,
  names: string[],
  ...[slug, body, extra = {}, skills]: ManualDeployArgs
): void {
  engine.deployWorkflow({
    program: program(manualMeta(slug, extra), body, { names }),
    ...(skills === undefined ? {} : { skills }),
  });
}

/** Starts a run of `slug` and resolves with its terminal row. */
export async function runToEnd(engine: Engine, slug: string): Promise<RunRow> {
  return engine.waitForRun(engine.startRun(slug).id);
}

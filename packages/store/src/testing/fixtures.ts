/**
 * Test helpers for consumers of the store: stores on `:memory:` or a throwaway directory, and
 * small factories for manifests and events (the manual clock is `@promenade/workflow/testing`'s). No vitest here, so these load
 * in any test runner (the contract suite lives in contract.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore, type OpenStoreOptions } from "../open.ts";
import type { RunEvent, RunStatus, WorkflowManifest } from "../internal/sdk.ts";
import type { Store } from "../types.ts";

/** A store on `:memory:` (same SQL, same validation, no file). Close it when done. */
export function createMemoryStore(options: Omit<OpenStoreOptions, "path"> = {}): Store {
  return openStore({ ...options, path: ":memory:" });
}

/** A store on a fresh temp directory; `cleanup()` closes it and deletes the directory. */
export interface TempStore {
  readonly store: Store;
  /** The temp data dir. */
  readonly dir: string;
  /** The database file, `<dir>/promenade.db`. */
  readonly path: string;
  /** Closes the store (if still open) and removes `dir`. Idempotent. */
  cleanup(): void;
}

/** Opens a store at `<fresh temp dir>/promenade.db`. */
export function createTempStore(options: Omit<OpenStoreOptions, "path"> = {}): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "promenade-store-"));
  const path = join(dir, "promenade.db");
  const store = openStore({ ...options, path });
  return {
    store,
    dir,
    path,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal canonical manifest for `slug` (manual trigger, SDK defaults applied). */
export function testManifest(
  slug: string,
  overrides: Partial<WorkflowManifest> = {},
): WorkflowManifest {
  return {
    slug,
    triggers: [{ kind: "manual" }],
    concurrency: { mode: "unlimited" },
    runs_on: "boardwalk/linux",
    callable_by: "anyone_in_org",
    ...overrides,
  };
}

/** A `run_status` event for `runId` (envelope defaults: `turnId = runId`, `seq` 1, `t` 0). */
export function statusEvent(
  runId: string,
  status: RunStatus,
  envelope: { seq?: number; t?: number } = {},
): RunEvent {
  return {
    kind: "run_status",
    status,
    runId,
    turnId: runId,
    seq: envelope.seq ?? 1,
    t: envelope.t ?? 0,
  };
}

/** A `program_output` event for `runId`. */
export function outputLineEvent(
  runId: string,
  text: string,
  envelope: { seq?: number; t?: number; stream?: "stdout" | "stderr" } = {},
): RunEvent {
  return {
    kind: "program_output",
    stream: envelope.stream ?? "stdout",
    text,
    runId,
    turnId: runId,
    seq: envelope.seq ?? 1,
    t: envelope.t ?? 0,
  };
}

/** A `text_delta` agent event of turn `turnId`. */
export function textDeltaEvent(
  runId: string,
  turnId: string,
  text: string,
  envelope: { seq?: number; t?: number } = {},
): RunEvent {
  return {
    kind: "text_delta",
    blockId: "b1",
    text,
    runId,
    turnId,
    seq: envelope.seq ?? 1,
    t: envelope.t ?? 0,
  };
}

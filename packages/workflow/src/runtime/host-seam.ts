/**
 * The engine-facing seam functions of `@promenade/workflow/runtime`: thin,
 * documented wrappers over the one state module shared with `.`, so a host installed here is the
 * host the program's primitives see. Knows nothing about any engine.
 */
import {
  currentHost,
  declaredOutput,
  noHostError,
  reset,
  setConfig,
  setHost,
  setInput,
  setRunInfo,
} from "../internal/state.ts";
import type { RunInfo } from "../internal/state.ts";
import type { WorkflowHost } from "../ports.ts";
import type { JsonValue } from "../types.ts";

/** Sets the current host, replacing any previous one. */
export function installHost(host: WorkflowHost): void {
  setHost(host);
}

/** Assigns the `input` live binding (engines pass `payload ?? null`). */
export function installInput(value: unknown): void {
  setInput(value);
}

/** Assigns `config` := `Object.freeze({ ...value })` (shallow-frozen copy). */
export function installConfig(value: Record<string, JsonValue>): void {
  setConfig(value);
}

/**
 * Which run this process executes (`runtime.runId`, `runtime.workflowId` and
 * `runtime.workspaceDir` of the SDK read it).
 */
export function installRunInfo(info: RunInfo): void {
  setRunInfo(info);
}

/** The last `output()` value boxed as `{ value }`, or `null` if never called. Does not clear. */
export function takeDeclaredOutput(): { value: JsonValue } | null {
  return declaredOutput();
}

/** Host → none, `input` → `undefined`, `config` → `{}` (frozen), declared output and run info → none. */
export function resetRuntime(): void {
  reset();
}

/** The current host; throws a plain `Error` containing "no host installed" when there is none. */
export function requireHost(): WorkflowHost {
  const host = currentHost();
  if (host === undefined) throw noHostError("requireHost");
  return host;
}

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
} from "../internal/state.ts";
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

/** The last `output()` value boxed as `{ value }`, or `null` if never called. Does not clear. */
export function takeDeclaredOutput(): { value: JsonValue } | null {
  return declaredOutput();
}

/** Host → none, `input` → `undefined`, `config` → `{}` (frozen), declared output → none. */
export function resetRuntime(): void {
  reset();
}

/** The current host; throws a plain `Error` containing "no host installed" when there is none. */
export function requireHost(): WorkflowHost {
  const host = currentHost();
  if (host === undefined) throw noHostError("requireHost");
  return host;
}

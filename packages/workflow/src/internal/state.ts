/**
 * The SDK's module-level run state: the installed host, the `input` / `config` live bindings and
 * the declared output. Exactly one instance of this module may exist per run:
 * the program (through `.`) and the engine's run entry (through `./runtime`) must share it, so the
 * build puts it in one shared chunk and never duplicates it. No zod, no I/O: every run pays for
 * loading this file.
 */
import type { WorkflowHost } from "../ports.ts";
import type { JsonValue } from "../types.ts";

const EMPTY_CONFIG: Readonly<Record<string, JsonValue>> = Object.freeze({});

let host: WorkflowHost | undefined;
let declared: { value: JsonValue } | null = null;

/** The run's trigger payload; `undefined` until the engine installs it. Live binding. */
export let input: unknown = undefined;

/** The deployment configuration, shallow-frozen; `{}` until installed. Live binding. */
export let config: Readonly<Record<string, JsonValue>> = EMPTY_CONFIG;

/** Which run this process executes, as the engine installed it. */
export interface RunInfo {
  runId: string;
  workflowId: string | null;
  workspaceDir: string;
}

let runInfo: RunInfo | null = null;

/** Records which run this process executes. */
export function setRunInfo(next: RunInfo): void {
  runInfo = { ...next };
}

/** The installed run info, or `null` outside a run. */
export function currentRunInfo(): RunInfo | null {
  return runInfo;
}

/** Sets the current host, replacing any previous one. */
export function setHost(next: WorkflowHost): void {
  host = next;
}

/** The current host, or `undefined`. */
export function currentHost(): WorkflowHost | undefined {
  return host;
}

/** Assigns the `input` live binding. */
export function setInput(value: unknown): void {
  input = value;
}

/** Assigns the `config` live binding to a shallow-frozen copy of `value`. */
export function setConfig(value: Record<string, JsonValue>): void {
  config = Object.freeze({ ...value });
}

/** Records `value` as the declared output (last call wins). */
export function declareOutput(value: JsonValue): void {
  declared = { value };
}

/** The declared output boxed, or `null` when `output()` was never called. Does not clear. */
export function declaredOutput(): { value: JsonValue } | null {
  return declared;
}

/** Host → none, `input` → `undefined`, `config` → `{}`, declared output and run info → none. */
export function reset(): void {
  host = undefined;
  input = undefined;
  config = EMPTY_CONFIG;
  declared = null;
  runInfo = null;
}

/** The plain `Error` every host-backed hook raises when no host is installed. */
export function noHostError(hook: string): Error {
  return new Error(
    `${hook}: no host installed. Engines install the host automatically before running a ` +
      `workflow; in tests call installHost() from "@promenade/workflow/runtime" first.`,
  );
}

/** The plain `Error` for a missing optional host capability. */
export function notSupportedError(hook: string): Error {
  return new Error(`${hook} is not supported by the installed engine.`);
}

/** The current host, or throws the no-host error naming `hook`. */
export function hostFor(hook: string): WorkflowHost {
  if (host === undefined) throw noHostError(hook);
  return host;
}

/**
 * The author primitives: thin delegations to the installed `WorkflowHost`, plus the
 * host-free `parallel` and `output`. Invariants: arguments are forwarded exactly as received
 * (omitted optionals as `undefined`, never `{}`); host results and rejections pass through
 * unchanged; async hooks never throw synchronously, `phase` does. This module imports no zod and
 * no TypeScript compiler: it is what every run program loads.
 */
import { EngineError } from "./errors/index.ts";
import { declareOutput, hostFor, notSupportedError } from "./internal/state.ts";
import type {
  AgentOptions,
  ArtifactBody,
  ArtifactRef,
  CallOptions,
  HumanChoiceResult,
  HumanInputChoiceSpec,
  HumanInputMultiSelectSpec,
  HumanInputOptions,
  HumanInputResult,
  HumanInputTextSpec,
  HumanMultiSelectResult,
  HumanTextResult,
  JsonSchema,
  JsonValue,
  PhaseOptions,
  SleepArg,
} from "./types.ts";

/**
 * Runs one agent leaf (a tool-using loop) to completion. Resolves to the final text, or with
 * `schema` to the parsed JSON answer validated against it. Rejects with the engine's error
 * (`VALIDATION`, `MODEL_UNRESOLVED`, `PROVIDER_ERROR`, `UNSUPPORTED`, …) or, with no host
 * installed, a plain `Error` containing "no host installed".
 */
export function agent<T>(prompt: string, opts: AgentOptions & { schema: JsonSchema }): Promise<T>;
export function agent<T = string>(prompt: string, opts?: AgentOptions): Promise<T>;
export async function agent(prompt: string, opts?: AgentOptions): Promise<unknown> {
  return hostFor("agent").agent(prompt, opts);
}

/** Child workflows. Both calls are idempotent per parent run. */
export const workflows: {
  /**
   * Starts (or re-attaches to) a child run of `slug` and waits for it; resolves to the child's
   * declared output (`null` if none). Rejects `PROGRAM_ERROR` / `CANCELLED` / `NOT_FOUND`.
   */
  call(slug: string, input: unknown, opts?: CallOptions): Promise<unknown>;
  /** Starts (or re-attaches to) a child run without waiting; resolves to its run id. */
  run(slug: string, input: unknown, opts?: CallOptions): Promise<string>;
  /** Schedules a run for later: a hosted feature, `UNSUPPORTED` on this engine. */
  schedule(...args: unknown[]): Promise<never>;
} = {
  async call(slug, input, opts) {
    return hostFor("workflows.call").callWorkflow(slug, input, opts);
  },
  async run(slug, input, opts) {
    const host = hostFor("workflows.run");
    if (typeof host.runWorkflow !== "function") throw notSupportedError("workflows.run");
    return host.runWorkflow(slug, input, opts);
  },
  schedule() {
    return Promise.reject(
      new EngineError(
        "UNSUPPORTED",
        "workflows.schedule() is not supported by the installed engine; start runs with cron triggers or workflows.run().",
      ),
    );
  },
};

/**
 * Waits `arg` milliseconds, `{ durationMs }`, or until `{ until }` (ISO string or `Date`). The
 * engine validates the argument (`VALIDATION` for non-finite or unparseable forms).
 */
export async function sleep(arg: SleepArg): Promise<void> {
  return hostFor("sleep").sleep(arg);
}

/** Secrets declared in `permissions.secrets`. */
export const secrets: {
  /** Resolves to the secret's value. Rejects `SECRET_UNDECLARED` or `SECRET_MISSING`. */
  get(name: string): Promise<string>;
} = {
  async get(name) {
    return hostFor("secrets.get").getSecret(name);
  },
};

/** Run artifacts. */
export const artifacts: {
  /**
   * Stores `body` under the plain file name `name` (no `/`, `\` or `..`; else `VALIDATION`).
   * Rejects "not supported" when the engine lacks the capability.
   */
  write(
    name: string,
    contentType: string,
    body: ArtifactBody,
    metadata?: Record<string, unknown>,
  ): Promise<ArtifactRef>;
} = {
  async write(name, contentType, body, metadata) {
    const host = hostFor("artifacts.write");
    if (typeof host.writeArtifact !== "function") throw notSupportedError("artifacts.write");
    return host.writeArtifact(name, contentType, body, metadata);
  },
};

/**
 * Asks a person and waits for the answer: the run is held (`awaiting_input`, its process and
 * locals intact) until someone answers through the engine, then resolves with the answer,
 * checked against `opts.input` and normalized. A key that already has an answer (e.g. after a
 * restart) resolves with it at once. Rejects `VALIDATION` for a malformed form, key or timeout,
 * `CANCELLED` when the run is cancelled while waiting; "not supported" on an engine without the
 * capability.
 */
export function humanInput(
  opts: HumanInputOptions & { input: HumanInputTextSpec },
): Promise<HumanTextResult>;
export function humanInput(
  opts: HumanInputOptions & { input: HumanInputChoiceSpec },
): Promise<HumanChoiceResult>;
export function humanInput(
  opts: HumanInputOptions & { input: HumanInputMultiSelectSpec },
): Promise<HumanMultiSelectResult>;
export function humanInput(opts: HumanInputOptions): Promise<HumanInputResult>;
export async function humanInput(opts: HumanInputOptions): Promise<HumanInputResult> {
  const host = hostFor("humanInput");
  if (typeof host.humanInput !== "function") throw notSupportedError("humanInput");
  return host.humanInput(opts);
}

/**
 * Calls every thunk now, in order, and resolves to their results in input order once all have
 * resolved; rejects with the first rejection (`Promise.all` semantics). Needs no host.
 */
export async function parallel<T>(thunks: readonly (() => Promise<T>)[]): Promise<T[]> {
  // The executor turns a synchronous throw into that slot's rejection, so one throwing thunk
  // does not stop the later ones from being called.
  return Promise.all(thunks.map((thunk) => new Promise<T>((resolve) => resolve(thunk()))));
}

/**
 * Records `value` as the run's declared output; the last call wins. Synchronous, needs no host,
 * never throws. Serialised with JSON semantics when the run ends.
 */
export function output(value: JsonValue): void {
  declareOutput(value);
}

/**
 * Marks a named phase boundary in the run timeline (observability only). Synchronous; throws a
 * plain `Error` when no host is installed or the host has no `setPhase`.
 */
export function phase(name: string, opts?: PhaseOptions): void {
  const host = hostFor("phase");
  if (typeof host.setPhase !== "function") throw notSupportedError("phase");
  host.setPhase(name, opts);
}

/** Legacy alias of {@link phase}: the same function object. */
export const Phase: typeof phase = phase;

/**
 * `@promenade/supervisor/child`: the run-process runtime. The engine's shipped
 * child entry calls `runChild({ agent, redactor })`; this file does the rest: wait for `init`,
 * apply env and cwd, install the IPC-backed SDK host, evaluate the program, report the declared
 * output, flush stdout/stderr and IPC, exit.
 *
 * Injection seam: `agent(prompt, options, host)` is called for every `agent()` with a
 * {@link ChildAgentHost} (the agent loop's host: identity, resolveModel, startTurn, emit,
 * reportUsage, memoryUsed, mcpToken, redactor, workspaceDir, skillsDir), so `@promenade/agent`'s
 * `runAgent` plugs in as is; `redactor` is the run's one redactor, which also receives
 * `secrets.get` values and env-interpolated secrets. Without `agent`, `agent()` rejects
 * `UNSUPPORTED`. Import graph kept tiny for start latency: no zod, SDK runtime loaded lazily.
 */
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type {
  AgentOptions,
  ArtifactBody,
  ArtifactRef,
  CallOptions,
  HumanInputOptions,
  HumanInputResult,
  PhaseOptions,
  SleepArg,
  WorkflowHost,
} from "@promenade/workflow/runtime";
import { EngineError, isEngineErrorCode, toErrorShape } from "@promenade/workflow/errors";
import {
  parseHumanInputSpec,
  parseHumanInputTimeout,
  validateHumanInputAnswer,
} from "@promenade/workflow/records";
import { childMessageDepthError, outputDepthError } from "../internal/child-limits.ts";
import { toJsonValue } from "./json.ts";
import type { ChildMessage, InitMessage, ParentMessage, WireError } from "../protocol.ts";
import { createRedactor } from "./redactor.ts";
import { enableSourceMaps, errorDetails } from "./stack.ts";
import type { ChildRedactor } from "./redactor.ts";

export { createRedactor } from "./redactor.ts";
export type { ChildRedactor } from "./redactor.ts";

/** The host an injected agent loop receives for one `agent()` call. */
export interface ChildAgentHost {
  /** `agentId` = `agent-<n>`, n counting `agent()` calls in this run process. */
  identity: { agentId: string; agentName?: string };
  /** Host call `resolve_model`; resolves to the engine's `ResolvedModel` (validate it). */
  resolveModel(model?: string, provider?: string): Promise<unknown>;
  /** Opens a new cursor block; the supervisor stamps `turn_started`. */
  startTurn(turnId: string): void;
  /** Sends one agent-channel event body; the supervisor stamps its envelope. */
  emit(turnId: string, body: { kind: string } & Record<string, unknown>): void;
  /** One model call's usage; the supervisor tallies it and enforces budgets. */
  reportUsage(
    modelRef: string,
    usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number },
  ): void;
  /** A workspace-relative memory dir used by this run (persisted at success). */
  memoryUsed(dir: string): void;
  /** Host call `mcp_token`. */
  mcpToken(
    serverUrl: string,
    invalidateToken?: string,
  ): Promise<{ accessToken: string | null; hint?: string }>;
  /** The run's one redactor. */
  redactor: ChildRedactor;
  /** The run's working directory. */
  workspaceDir: string;
  /** Directory of deployed `<skill>.md` files, or `null`. */
  skillsDir: string | null;
  /**
   * Opens a human-input gate keyed `request.key` (the agent's tool-call id) and resolves with the
   * person's answer. Rejects `VALIDATION` for a malformed `input` form (no gate is opened).
   */
  humanInput(request: { key: string; prompt: string; input: unknown }): Promise<unknown>;
}

/** What the engine's child entry injects. */
export interface ChildRuntimeOptions {
  /**
   * The agent loop (`@promenade/agent`'s `runAgent`). Declared as a method so a loop typed with
   * its own `AgentHost` (structurally the same members) can be passed directly.
   */
  agent?(prompt: string, options: AgentOptions | undefined, host: ChildAgentHost): Promise<unknown>;
  /** The run's redactor. Default: {@link createRedactor}. */
  redactor?: ChildRedactor;
}

const MAX_TIMER_MS = 2_147_483_647;
const SLEEP_FORMS =
  "sleep() accepts a number of milliseconds, { durationMs: number } or { until: string | Date }.";

/**
 * Runs this process as a Promenade run process. Call once from the child entry file; the process
 * must have been spawned with an IPC channel. Resolves never: the process exits when done.
 */
export function runChild(options: ChildRuntimeOptions = {}): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new EngineError(
      "INTERNAL",
      "runChild() must run in a process spawned with an IPC channel.",
      "The supervisor spawns run processes with stdio [ignore, pipe, pipe, ipc].",
    );
  }
  const runtime = new ChildRuntime(send, options);
  runtime.listen();
}

type SendFn = (message: unknown, callback: (error: Error | null) => void) => boolean;

class ChildRuntime {
  private readonly sendRaw: SendFn;
  private readonly options: ChildRuntimeOptions;
  private readonly redactor: ChildRedactor;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: unknown) => void }
  >();
  private nextCallId = 1;
  private phaseCount = 0;
  private agentCount = 0;
  private inputCount = 0;
  private started = false;
  private finishing = false;
  /** A value the program produced could not be sent: the run is failing (see `refuse`). */
  private refused = false;
  private workspaceDir = "";
  private skillsDir: string | null = null;

  constructor(send: SendFn, options: ChildRuntimeOptions) {
    this.sendRaw = send;
    this.options = options;
    this.redactor = options.redactor ?? createRedactor();
  }

  listen(): void {
    // The engine died (or closed the channel): a run process never outlives its supervisor.
    process.on("disconnect", () => {
      if (!this.finishing) process.exit(1);
    });
    process.on("message", (raw: unknown) => this.onMessage(raw as ParentMessage));
    // Load the SDK while waiting for `init` (the program imports it anyway), so the program's
    // import is a module-cache hit. The SDK loads zod only when a schema is used.
    import("@promenade/workflow/runtime").catch(() => undefined);
    import("@promenade/workflow").catch(() => undefined);
  }

  private onMessage(message: ParentMessage): void {
    if (message === null || typeof message !== "object") return;
    if (message.type === "init") {
      if (this.started) return;
      if (!isInitMessage(message)) {
        process.stderr.write("promenade run process: ignored a malformed init message\n");
        return;
      }
      this.started = true;
      this.start(message).catch((err: unknown) => this.setupFailed(err));
    } else if (message.type === "host_result") {
      const waiter = this.pending.get(message.callId);
      if (waiter === undefined) return;
      this.pending.delete(message.callId);
      const result = message.result;
      if (result.ok) waiter.resolve(result.value);
      else waiter.reject(rebuildError(result.error));
    }
  }

  private send(message: ChildMessage, callback?: () => void): void {
    try {
      this.sendRaw(message, () => callback?.());
    } catch {
      // Channel closed: the disconnect handler ends the process.
      callback?.();
    }
  }

  private async start(init: InitMessage): Promise<void> {
    if (init.env !== undefined) replaceEnv(init.env);
    process.chdir(init.workspaceDir);
    this.workspaceDir = init.workspaceDir;
    this.skillsDir = init.skillsDir;
    // Secrets interpolated into env (`${{ secrets.NAME }}`): the values are read back from this process's own
    // environment, which the supervisor built; only the names crossed IPC.
    for (const [envVar, secretName] of Object.entries(init.envSecrets)) {
      const value = process.env[envVar];
      if (value !== undefined) this.redactor.add(secretName, value);
    }

    const runtime = await import("@promenade/workflow/runtime");
    runtime.installHost(this.host());
    runtime.installInput(init.input ?? null);
    runtime.installConfig((init.config ?? {}) as Parameters<typeof runtime.installConfig>[0]);

    let thrown: { error: unknown } | null = null;
    enableSourceMaps();
    try {
      const program = (await import(pathToFileURL(init.programPath).href)) as {
        default?: unknown;
      };
      if (typeof program.default === "function") {
        process.stderr.write(
          "warning: the workflow module's default export is a function and was not called; " +
            "the module body is the program.\n",
        );
      }
    } catch (err) {
      thrown = { error: err };
    }

    const box = runtime.takeDeclaredOutput();
    let output: unknown = null;
    let outputDeclared = box !== null;
    if (box !== null) {
      try {
        // Checked before serializing: a value nested thousands of levels overflows the serializer.
        const tooDeep = outputDepthError(box.value);
        if (tooDeep !== null) throw tooDeep;
        output = toJsonValue(box.value, "The value passed to output()");
      } catch (err) {
        outputDeclared = false;
        thrown ??= { error: err };
      }
    }
    let report: ChildMessage;
    if (thrown === null) {
      report = { type: "done", output, outputDeclared };
    } else {
      const shape = toErrorShape(thrown.error);
      const error: WireError = { code: shape.code, message: this.redactor.redact(shape.message) };
      if (shape.hint !== undefined) error.hint = this.redactor.redact(shape.hint);
      const { name, stack } = errorDetails(thrown.error, dirname(init.programPath));
      if (name !== undefined) error.name = this.redactor.redact(name);
      if (stack !== undefined) error.stack = this.redactor.redact(stack);
      report = { type: "failed", error, output, outputDeclared };
    }
    // Nothing lost at the end: stdout/stderr drained and every queued IPC message written
    // before the report's send callback fires (the channel is FIFO), then exit.
    await Promise.all([flushStream(process.stdout), flushStream(process.stderr)]);
    if (this.finishing || this.refused) return; // the run already failed (see `refuse`)
    this.finishing = true;
    // The send callback fires once the report is written to the channel, so exiting right away
    // loses nothing (an explicit disconnect first only slows the exit down).
    this.send(report, () => process.exit(0));
  }

  /** The runtime itself could not start the program: an engine-side failure, not a crash. */
  private setupFailed(err: unknown): void {
    if (this.finishing) return;
    this.finishing = true;
    const message = err instanceof Error ? err.message : String(err);
    this.send(
      {
        type: "failed",
        error: {
          code: "INTERNAL",
          message: `The run process could not start the program: ${message}`,
        },
        output: null,
        outputDeclared: false,
      },
      () => process.exit(0),
    );
  }

  /**
   * Ends the run `failed` with `error` at once: an emitted event nested past the JSON depth limit
   * cannot be recorded, and dropping it would lose part of the run's record without a trace.
   * The program is not given the chance to carry on without it.
   */
  private refuse(error: EngineError): void {
    if (this.finishing || this.refused) return;
    this.refused = true;
    const wire: WireError = { code: error.code, message: this.redactor.redact(error.message) };
    if (error.hint !== undefined) wire.hint = this.redactor.redact(error.hint);
    const report: ChildMessage = {
      type: "failed",
      error: wire,
      output: null,
      outputDeclared: false,
    };
    void Promise.all([flushStream(process.stdout), flushStream(process.stderr)]).then(() => {
      if (this.finishing) return;
      this.finishing = true;
      this.send(report, () => process.exit(0));
    });
  }

  /** Sends one event body unless it nests past the JSON depth limit (then the run fails). */
  private emit(body: { kind: string } & Record<string, unknown>, turnId?: string): void {
    if (this.refused) return;
    const tooDeep = childMessageDepthError({ type: "emit", body });
    if (tooDeep !== null) {
      this.refuse(tooDeep);
      return;
    }
    this.send(turnId === undefined ? { type: "emit", body } : { type: "emit", body, turnId });
  }

  private hostCall(method: string, args: Record<string, unknown>): Promise<unknown> {
    // Arguments are checked before they are serialized onto the channel.
    const tooDeep = childMessageDepthError({ type: "host_call", method, args });
    if (tooDeep !== null) return Promise.reject(tooDeep);
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.pending.set(callId, { resolve, reject });
      this.send({ type: "host_call", callId, method, args: withoutUndefined(args) });
    });
  }

  private host(): WorkflowHost {
    return {
      agent: (prompt, opts) => this.agent(prompt, opts),
      callWorkflow: (slug, input, opts) => this.startWorkflow("call_workflow", slug, input, opts),
      runWorkflow: async (slug, input, opts) =>
        (await this.startWorkflow("run_workflow", slug, input, opts)) as string,
      sleep: (arg) => sleep(arg),
      getSecret: async (name) => {
        const value = (await this.hostCall("get_secret", { name })) as string;
        this.redactor.add(name, value);
        return value;
      },
      setPhase: (name, opts) => this.phase(name, opts),
      writeArtifact: (name, contentType, body, metadata) =>
        this.writeArtifact(name, contentType, body, metadata),
      humanInput: (opts) => this.humanInput(opts),
    };
  }

  /** `humanInput()`: the key defaults to `input-<n>`, n counting this pass's calls from 1. */
  private async humanInput(opts: HumanInputOptions): Promise<HumanInputResult> {
    this.inputCount += 1;
    if (typeof opts !== "object" || (opts as unknown) === null) {
      throw new EngineError(
        "VALIDATION",
        "humanInput(opts) needs an options object: { prompt, input, key?, timeout?, onTimeout? }.",
      );
    }
    const key = opts.key ?? `input-${this.inputCount}`;
    return (await this.askHuman({ ...opts, key })) as HumanInputResult;
  }

  /**
   * Checks a gate (form, key, assignees, timeout, default answer) before anything is sent, then
   * waits for the host's answer: a malformed gate rejects `VALIDATION` and opens nothing.
   */
  private async askHuman(opts: {
    key: unknown;
    prompt: unknown;
    input: unknown;
    assignees?: unknown;
    timeout?: unknown;
    onTimeout?: unknown;
  }): Promise<unknown> {
    if (typeof opts.key !== "string" || opts.key === "") {
      throw new EngineError("VALIDATION", "humanInput: key must be a non-empty string.");
    }
    if (typeof opts.prompt !== "string") {
      throw new EngineError("VALIDATION", "humanInput: prompt must be a string.");
    }
    const spec = parseHumanInputSpec(opts.input);
    const args: Record<string, unknown> = {
      key: opts.key,
      prompt: opts.prompt,
      input: toJsonValue(spec, "humanInput input"),
    };
    if (opts.assignees !== undefined) {
      const list = opts.assignees;
      if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
        throw new EngineError("VALIDATION", "humanInput: assignees must be an array of strings.");
      }
      args.assignees = [...list];
    }
    if (opts.timeout !== undefined) {
      parseHumanInputTimeout(opts.timeout);
      args.timeout = opts.timeout;
    }
    const onTimeout = opts.onTimeout;
    if (onTimeout !== undefined && onTimeout !== "fail") {
      if (typeof onTimeout !== "object" || onTimeout === null || !("value" in onTimeout)) {
        throw new EngineError(
          "VALIDATION",
          'humanInput: onTimeout must be "fail" or { value: <answer> }.',
        );
      }
      args.onTimeout = { value: validateHumanInputAnswer(spec, onTimeout.value) };
    }
    return this.hostCall("human_input", args);
  }

  private async agent(prompt: string, opts: AgentOptions | undefined): Promise<unknown> {
    const options = this.options;
    if (options.agent === undefined) {
      throw new EngineError(
        "UNSUPPORTED",
        "agent() is not available in this engine build.",
        "Run the program on an engine whose run-process entry plugs in the agent loop (@promenade/engine).",
      );
    }
    this.agentCount += 1;
    const agentId = `agent-${this.agentCount}`;
    const name = opts?.name;
    const identity: { agentId: string; agentName?: string } = { agentId };
    if (typeof name === "string" && name !== "") identity.agentName = name;
    const host: ChildAgentHost = {
      identity,
      resolveModel: (model, provider) => {
        const args: Record<string, unknown> = {};
        if (model !== undefined && model !== "") args.model = model;
        if (provider !== undefined && provider !== "") args.provider = provider;
        return this.hostCall("resolve_model", args);
      },
      startTurn: (turnId) => {
        const message: ChildMessage = { type: "turn_started", turnId, agentId };
        if (identity.agentName !== undefined) message.agentName = identity.agentName;
        this.send(message);
      },
      emit: (turnId, body) => this.emit(body, turnId),
      reportUsage: (modelRef, usage) => {
        const clean: { inputTokens?: number; outputTokens?: number; totalTokens?: number } = {};
        if (usage.inputTokens !== undefined) clean.inputTokens = usage.inputTokens;
        if (usage.outputTokens !== undefined) clean.outputTokens = usage.outputTokens;
        if (usage.totalTokens !== undefined) clean.totalTokens = usage.totalTokens;
        this.send({ type: "report_usage", modelRef, usage: clean });
      },
      memoryUsed: (dir) => this.send({ type: "memory_used", dir }),
      mcpToken: async (serverUrl, invalidateToken) =>
        (await this.hostCall("mcp_token", { serverUrl, invalidateToken })) as {
          accessToken: string | null;
          hint?: string;
        },
      redactor: this.redactor,
      workspaceDir: this.workspaceDir,
      skillsDir: this.skillsDir,
      humanInput: (request) => this.askHuman(request),
    };
    return options.agent(prompt, opts, host);
  }

  private async startWorkflow(
    method: "call_workflow" | "run_workflow",
    slug: string,
    input: unknown,
    opts: CallOptions | undefined,
  ): Promise<unknown> {
    const hook = method === "call_workflow" ? "workflows.call" : "workflows.run";
    const json = toJsonValue(input, `${hook} input`);
    const args: Record<string, unknown> = { slug, input: json };
    if (opts?.idempotencyKey !== undefined) args.idempotencyKey = opts.idempotencyKey;
    return this.hostCall(method, args);
  }

  private phase(name: string, opts: PhaseOptions | undefined): void {
    this.phaseCount += 1;
    const id = opts?.id ?? `phase-${this.phaseCount}`;
    // A marker with an empty name or id is not emitted (a phase needs both); the call still returns.
    if (typeof name !== "string" || name === "" || typeof id !== "string" || id === "") return;
    this.emit({ kind: "phase", name, id });
  }

  private async writeArtifact(
    name: string,
    contentType: string,
    body: ArtifactBody,
    metadata: Record<string, unknown> | undefined,
  ): Promise<ArtifactRef> {
    let bodyBase64: string;
    if (typeof body === "string") bodyBase64 = Buffer.from(body, "utf8").toString("base64");
    else if (body instanceof Uint8Array) {
      bodyBase64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64");
    } else {
      throw new EngineError("VALIDATION", "artifacts.write body must be a string or a Uint8Array.");
    }
    const args: Record<string, unknown> = { name, contentType, bodyBase64 };
    if (metadata !== undefined) args.metadata = toJsonValue(metadata, "artifacts.write metadata");
    return (await this.hostCall("write_artifact", args)) as ArtifactRef;
  }
}

/** Waits in chunks (timers cap at 2^31−1 ms); holds the process while waiting. */
async function sleep(arg: SleepArg): Promise<void> {
  const ms = sleepMs(arg);
  let left = ms;
  while (left > 0) {
    const chunk = Math.min(left, MAX_TIMER_MS);
    const end = Date.now() + left;
    await new Promise<void>((resolve) => setTimeout(resolve, chunk));
    left = end - Date.now();
  }
}

function sleepMs(arg: SleepArg): number {
  if (typeof arg === "number") {
    if (!Number.isFinite(arg)) throw sleepError(`got ${String(arg)}`);
    return arg;
  }
  if (arg !== null && typeof arg === "object") {
    const record = arg as Record<string, unknown>;
    if (record.durationMs !== undefined) {
      const value = record.durationMs;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw sleepError(`durationMs is a ${typeof value}, not a finite number`);
      }
      return value;
    }
    if (record.until !== undefined) {
      const until = record.until;
      let target: number;
      if (typeof until === "string") target = Date.parse(until);
      else if (until instanceof Date) target = until.getTime();
      else throw sleepError("until must be a string or a Date");
      if (Number.isNaN(target))
        throw sleepError(`until ${JSON.stringify(String(until))} is not a valid date`);
      return target - Date.now();
    }
  }
  throw sleepError("unrecognised argument");
}

function sleepError(problem: string): EngineError {
  return new EngineError("VALIDATION", `${SLEEP_FORMS} (${problem})`);
}

function isInitMessage(message: InitMessage): boolean {
  return (
    typeof message.runId === "string" &&
    typeof message.programPath === "string" &&
    typeof message.workspaceDir === "string" &&
    (message.skillsDir === null || typeof message.skillsDir === "string") &&
    typeof message.config === "object" &&
    message.config !== null &&
    typeof message.envSecrets === "object" &&
    message.envSecrets !== null &&
    (message.env === undefined || (typeof message.env === "object" && message.env !== null))
  );
}

function rebuildError(error: WireError): EngineError {
  const code = isEngineErrorCode(error.code) ? error.code : "INTERNAL";
  return new EngineError(code, error.message, error.hint);
}

function withoutUndefined(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) if (value !== undefined) out[key] = value;
  return out;
}

function replaceEnv(env: Record<string, string>): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) process.env[key] = value;
}

function flushStream(stream: NodeJS.WriteStream): Promise<void> {
  // Pipe writes usually complete synchronously; only wait when bytes are still queued.
  if (stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    try {
      stream.write("", () => resolve());
    } catch {
      resolve();
    }
  });
}

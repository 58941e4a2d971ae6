/**
 * The run-process runtime: waits for `init`, applies env and cwd, installs the SDK host, evaluates
 * the program, reports the declared output, flushes stdout/stderr and IPC, exits. It owns the
 * message loop (host-call results), the batching of fire-and-forget messages and the failure
 * reports (setup failures, refused events).
 */
import { closeSync } from "node:fs";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { EngineError, isEngineErrorCode, toErrorShape } from "@promenade/workflow/errors";
import { childMessageDepthError, outputDepthError } from "../internal/child-limits.ts";
import type {
  BatchableChildMessage,
  ChildMessage,
  InitMessage,
  ParentMessage,
  WireError,
} from "../protocol.ts";
import type { ChildAgentPlug } from "./agent-host.ts";
import type { ChildChannel } from "./channel.ts";
import { createWorkflowHost } from "./host.ts";
import { toJsonValue } from "./json.ts";
import { createRedactor } from "./redactor.ts";
import { enableSourceMaps, errorDetails } from "./stack.ts";
import type { ChildRedactor } from "./redactor.ts";

/** What the engine's child entry injects. */
export interface ChildRuntimeOptions extends ChildAgentPlug {
  /** The run's redactor. Default: {@link createRedactor}. */
  redactor?: ChildRedactor;
  /**
   * URL of a module a pooled process imports while it waits for its run, so the program's own
   * import meets a warmed module loader. It should import the SDK the way programs do, and do
   * nothing else. Default: none.
   */
  warmUpModule?: string;
}

/** Queued fire-and-forget messages written at once, before the end of the current turn. */
const MAX_QUEUED_MESSAGES = 256;

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

class ChildRuntime implements ChildChannel {
  readonly redactor: ChildRedactor;
  private readonly sendRaw: SendFn;
  private readonly options: ChildRuntimeOptions;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: unknown) => void }
  >();
  private nextCallId = 1;
  private warmedUp = false;
  private started = false;
  private finishing = false;
  /** A value the program produced could not be sent: the run is failing (see `refuse`). */
  private refused = false;
  /** Fire-and-forget messages not yet written (see {@link post}). */
  private queued: BatchableChildMessage[] = [];
  private flushScheduled = false;
  /** The SDK's runtime door, loaded while the process waits for `init`. */
  private readonly sdkRuntime = import("@promenade/workflow/runtime");

  constructor(send: SendFn, options: ChildRuntimeOptions) {
    this.sendRaw = send;
    this.options = options;
    this.redactor = options.redactor ?? createRedactor();
  }

  listen(): void {
    // A program that calls process.exit() (or dies of an uncaught error) still delivers what
    // it emitted before: the queue is written synchronously on the way out.
    process.on("exit", () => this.flushQueued());
    // The engine died (or closed the channel): a run process never outlives its supervisor.
    process.on("disconnect", () => {
      if (!this.finishing) process.exit(1);
    });
    process.on("message", (raw: unknown) => this.onMessage(raw as ParentMessage));
    // Booted: the supervisor may start creating the next run process.
    this.write({ type: "ready" });
    // Load the SDK while waiting for `init` (the program imports it anyway), so the program's
    // import is a module-cache hit. The SDK loads zod only when a schema is used.
    this.sdkRuntime.catch(() => undefined);
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
    } else if (message.type === "warm_up") {
      this.warmUp();
    } else if (message.type === "host_result") {
      const waiter = this.pending.get(message.callId);
      if (waiter === undefined) return;
      this.pending.delete(message.callId);
      const result = message.result;
      if (result.ok) waiter.resolve(result.value);
      else waiter.reject(rebuildError(result.error));
    }
  }

  /**
   * A pooled process rehearses while idle: this message was its first (receiving one runs code
   * for the first time too); stdout and stderr, which Node creates at their first use (every run
   * flushes them at its end), are created now; the runtime's own functions a start and a report
   * call run once on throwaway values; and the warm-up module's import compiles the loader's
   * paths a program's import takes, with source maps on as for the program. A failure only
   * leaves the run's start as slow as a cold one.
   */
  private warmUp(): void {
    if (this.started || this.warmedUp) return;
    this.warmedUp = true;
    void process.stdout.writableLength;
    void process.stderr.writableLength;
    try {
      const value = { rehearsal: [1, "text", null, true] };
      outputDepthError(value);
      toJsonValue(value, "A rehearsal value");
      createWorkflowHost(this, this.options, {
        workspaceDir: process.cwd(),
        skillsDir: null,
        agentsMd: null,
        agentBuiltins: "all",
        webSearch: false,
      });
    } catch {
      // Nothing a run depends on: the run calls them again for real.
    }
    const url = this.options.warmUpModule;
    if (url === undefined) return;
    enableSourceMaps();
    import(url).catch(() => undefined);
  }

  /**
   * Queues a fire-and-forget message; the queue is written as one `batch` when the current turn's
   * synchronous code and microtasks are done, or at once when it is full. A program emitting in a
   * tight loop pays one serialization and one write per batch instead of one per event.
   */
  post(message: BatchableChildMessage): void {
    this.queued.push(message);
    if (this.queued.length >= MAX_QUEUED_MESSAGES) {
      this.flushQueued();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flushQueued();
    });
  }

  /** Writes the queued messages (in order) before anything sent after them. */
  private flushQueued(): void {
    if (this.queued.length === 0) return;
    const messages = this.queued;
    this.queued = [];
    const first = messages[0];
    this.write(messages.length === 1 && first !== undefined ? first : { type: "batch", messages });
  }

  /** Sends `message` after everything queued before it. */
  private send(message: ChildMessage, callback?: () => void): void {
    this.flushQueued();
    this.write(message, callback);
  }

  private write(message: ChildMessage, callback?: () => void): void {
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
    // Secrets interpolated into env (`${{ secrets.NAME }}`): the values are read back from this process's own
    // environment, which the supervisor built; only the names crossed IPC.
    for (const [envVar, secretName] of Object.entries(init.envSecrets)) {
      const value = process.env[envVar];
      if (value !== undefined) this.redactor.add(secretName, value);
    }

    const runtime = await this.sdkRuntime;
    runtime.installHost(
      createWorkflowHost(this, this.options, {
        workspaceDir: init.workspaceDir,
        skillsDir: init.skillsDir,
        agentsMd: init.agentsMd ?? null,
        agentBuiltins: init.agentBuiltins ?? "all",
        webSearch: init.webSearch === true,
      }),
    );
    runtime.installRunInfo({
      runId: init.runId,
      workflowId: init.workflowId ?? null,
      workspaceDir: init.workspaceDir,
    });
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
    this.send(report, exitReported);
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
      exitReported,
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
      this.send(report, exitReported);
    });
  }

  emit(body: { kind: string } & Record<string, unknown>, turnId?: string): void {
    if (this.refused) return;
    const tooDeep = childMessageDepthError({ type: "emit", body });
    if (tooDeep !== null) {
      this.refuse(tooDeep);
      return;
    }
    this.post(turnId === undefined ? { type: "emit", body } : { type: "emit", body, turnId });
  }

  hostCall(method: string, args: Record<string, unknown>): Promise<unknown> {
    // Arguments are checked before they are serialized onto the channel.
    const tooDeep = childMessageDepthError({ type: "host_call", method, args });
    if (tooDeep !== null) return Promise.reject(tooDeep);
    const callId = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.pending.set(callId, { resolve, reject });
      this.send({ type: "host_call", callId, method, args: withoutUndefined(args) });
    });
  }
}

/**
 * Exits a process whose report is written. Its stdout and stderr are closed by the last `exit`
 * listener — after whatever the program's own listeners print — so the supervisor sees its output
 * end, and settles the run, without waiting for the process's teardown (freeing the heap and the
 * address space takes longer than the run's whole report here).
 */
function exitReported(): void {
  process.on("exit", closeOutput);
  process.exit(0);
}

function closeOutput(): void {
  for (const fd of [1, 2]) {
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to end.
    }
  }
}

function isInitMessage(message: InitMessage): boolean {
  return (
    typeof message.runId === "string" &&
    typeof message.programPath === "string" &&
    typeof message.workspaceDir === "string" &&
    (message.workflowId === undefined || typeof message.workflowId === "string") &&
    (message.skillsDir === null || typeof message.skillsDir === "string") &&
    (message.agentsMd === undefined ||
      message.agentsMd === null ||
      typeof message.agentsMd === "string") &&
    typeof message.config === "object" &&
    message.config !== null &&
    typeof message.envSecrets === "object" &&
    message.envSecrets !== null &&
    (message.env === undefined || (typeof message.env === "object" && message.env !== null)) &&
    (message.agentBuiltins === undefined ||
      message.agentBuiltins === "all" ||
      message.agentBuiltins === "read-only" ||
      message.agentBuiltins === "none") &&
    (message.webSearch === undefined || typeof message.webSearch === "boolean")
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

/** Makes `process.env` equal to `env`, touching only the variables that differ. */
function replaceEnv(env: Record<string, string>): void {
  for (const key of Object.keys(process.env)) if (!Object.hasOwn(env, key)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) {
    if (process.env[key] !== value) process.env[key] = value;
  }
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

/**
 * The host side of the run process's `host_call`s: secrets, child runs (`workflows.call` /
 * `workflows.run`), artifacts, human-input gates (`human-input.ts`), and the engine-injected
 * methods (`resolve_model`, `mcp_token`).
 * Every call is answered with a `host_result` while the process is alive; an engine-side error
 * crosses as its `EngineError` shape (anything else as `INTERNAL`).
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { runInputProblem } from "@promenade/workflow/limits";
import { isTerminal } from "@promenade/workflow/records";
import { assertOpen } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass } from "./execution.ts";
import { syncHeldStatus } from "./held-status.ts";
import { openGate } from "./human-input.ts";
import { defaultIdempotencyKey } from "./idempotency.ts";
import { sendToChild } from "./internal/child-process.ts";
import { engineSideShape } from "./internal/errors.ts";
import { runDirs } from "./internal/run-dir.ts";
import { resolveSecret } from "./internal/secrets.ts";
import type { RunRow } from "./ports.ts";
import type { WireError } from "./protocol.ts";

/** Runs one host call and sends its result to the pass's process (if it is still there). */
export async function answerHostCall(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  callId: number,
  method: string,
  args: Record<string, unknown>,
): Promise<void> {
  let result: { ok: true; value: unknown } | { ok: false; error: WireError };
  try {
    const value = await hostCall(ctx, exec, pass, method, args);
    result = { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    result = { ok: false, error: engineSideShape(err) };
  }
  const child = pass.child;
  if (ctx.isClosing() || child === null || pass.exited || !child.connected) return;
  sendToChild(child, { type: "host_result", callId, result });
}

async function hostCall(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  method: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  switch (method) {
    case "get_secret": {
      const name = args.name;
      if (typeof name !== "string" || name === "") {
        throw new EngineError("VALIDATION", "secrets.get needs a non-empty secret name.");
      }
      const value = resolveSecret(name, exec.workflow, ctx.secretSource);
      exec.redactor.add(name, value);
      return value;
    }
    case "call_workflow":
    case "run_workflow":
      return startChildRun(ctx, exec, pass, method, args);
    case "write_artifact":
      return writeArtifact(ctx, exec, args);
    case "read_artifact":
      return readArtifact(ctx, exec, args);
    case "human_input":
      return openGate(ctx, exec, pass, args);
    case "resolve_model":
    case "mcp_token":
    case "web_search": {
      const handler = ctx.hostMethods[method];
      if (handler === undefined) {
        throw new EngineError(
          "UNSUPPORTED",
          `Host method "${method}" is not available on this engine.`,
        );
      }
      return handler(args, { runId: exec.runId, workflow: exec.workflow });
    }
    default:
      throw new EngineError("UNSUPPORTED", `Unknown host method "${method}".`);
  }
}

/**
 * `workflows.call` / `workflows.run`: finds or creates the child run by its idempotency key (the
 * store writes a created child's `queued` event with the row), supervises it at once (children
 * bypass the concurrency gate), and for `call` resolves with its output. A `call` holds its
 * parent `waiting_for_child` from the moment the child is found or created until it ends; a
 * `run` never changes the parent's status.
 */
async function startChildRun(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  method: "call_workflow" | "run_workflow",
  args: Record<string, unknown>,
): Promise<unknown> {
  const slug = args.slug;
  const hook = method === "call_workflow" ? "workflows.call" : "workflows.run";
  if (typeof slug !== "string" || slug === "") {
    throw new EngineError("VALIDATION", `${hook} needs a non-empty workflow slug.`);
  }
  const target = await ctx.store.getWorkflow(slug);
  if (target === null) {
    throw new EngineError(
      "NOT_FOUND",
      `${hook} target "${slug}" is not deployed on this engine.`,
      `Deploy the workflow "${slug}" first.`,
    );
  }
  // The input crossed a JSON channel (the run process already refused non-JSON values).
  const input = (args.input === undefined ? null : args.input) as JsonValue;
  const problem = runInputProblem(target.manifest.input_schema, input);
  if (problem !== null) {
    throw new EngineError(
      "VALIDATION",
      `${hook}("${slug}"): input does not match the workflow's input_schema: ${problem}.`,
      `Pass input that matches meta.input_schema of "${slug}".`,
    );
  }
  let key: string;
  if (args.idempotencyKey === undefined) {
    key = defaultIdempotencyKey(exec.runId, slug, input);
  } else if (typeof args.idempotencyKey === "string" && args.idempotencyKey !== "") {
    key = args.idempotencyKey;
  } else {
    throw new EngineError(
      "VALIDATION",
      `${hook}: idempotencyKey must be a non-empty string.`,
      "Omit idempotencyKey to use the default key.",
    );
  }
  assertOpen(ctx);
  const { run } = await ctx.store.createRun({
    workflowId: target.id,
    triggerKind: "manual",
    // Stored: a secret value the parent resolved reaches the child redacted (the key above is
    // derived from the input as given, so it does not depend on which secrets are known yet).
    input: exec.redactor.redactDeep(input),
    parentRunId: exec.runId,
    idempotencyKey: key,
  });
  if (method === "run_workflow") {
    // The parent does not hold for a `workflows.run` child.
    ctx.supervise(run.id).catch(() => undefined);
    return run.id;
  }
  const child = await waitForChild(ctx, exec, pass, run);
  if (child.status === "completed") return child.output ?? null;
  if (child.status === "cancelled") {
    throw new EngineError("CANCELLED", `Child workflow "${slug}" (run ${child.id}) was cancelled.`);
  }
  throw new EngineError(
    "PROGRAM_ERROR",
    `Child workflow "${slug}" (run ${child.id}) failed: ${child.error?.message ?? "unknown error"}`,
  );
}

/** Supervises a called child to its end, counting one child wait of the pass while it runs. */
async function waitForChild(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  run: RunRow,
): Promise<RunRow> {
  // A re-attached child that already ended is no wait: its output is returned at once.
  if (isTerminal(run.status)) return ctx.supervise(run.id);
  pass.childWaits += 1;
  syncHeldStatus(ctx, exec);
  try {
    return await ctx.supervise(run.id);
  } finally {
    pass.childWaits -= 1;
    if (exec.pass === pass) syncHeldStatus(ctx, exec);
  }
}

/** An artifact name: a plain file name (no `/`, `\\` or `..`), else `VALIDATION`. */
function artifactName(name: unknown): string {
  if (
    typeof name !== "string" ||
    name === "" ||
    name.includes("/") ||
    name.includes("\\") ||
    name.includes("..")
  ) {
    throw new EngineError(
      "VALIDATION",
      `Artifact name "${String(name)}" must be a plain file name.`,
      "Use a name without /, \\ or .. such as report.txt.",
    );
  }
  return name;
}

/** The most a `read_artifact` call returns, in bytes: an artifact is read from its start. */
export const READ_ARTIFACT_MAX_BYTES = 1024 * 1024;

/**
 * `read_artifact` (the agent's `artifacts` built-in): the run's artifact `name` as UTF-8 text
 * (its first {@link READ_ARTIFACT_MAX_BYTES} bytes) with its full size, or `null` when the run
 * wrote none by that name. Only this run's artifacts are reachable: the name is a plain file name.
 */
function readArtifact(
  ctx: SupervisorContext,
  exec: Execution,
  args: Record<string, unknown>,
): { name: string; text: string; size: number } | null {
  const name = artifactName(args.name);
  const path = join(runDirs(ctx, exec.runId).artifactsDir, name);
  let handle: number;
  try {
    handle = openSync(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const size = fstatSync(handle).size;
    const bytes = Buffer.alloc(Math.min(size, READ_ARTIFACT_MAX_BYTES));
    const read = readSync(handle, bytes, 0, bytes.length, 0);
    const text = exec.redactor.redact(bytes.subarray(0, read).toString("utf8"));
    return { name, text, size };
  } finally {
    closeSync(handle);
  }
}

/** `artifacts.write`: the bytes into the run's artifacts dir, then the row. */
async function writeArtifact(
  ctx: SupervisorContext,
  exec: Execution,
  args: Record<string, unknown>,
): Promise<unknown> {
  const { contentType, bodyBase64, metadata } = args;
  const name = artifactName(args.name);
  if (typeof contentType !== "string" || contentType === "") {
    throw new EngineError("VALIDATION", "artifacts.write needs a non-empty contentType.");
  }
  if (typeof bodyBase64 !== "string") {
    throw new EngineError("VALIDATION", "artifacts.write needs a body.");
  }
  if (
    metadata !== undefined &&
    (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
  ) {
    throw new EngineError("VALIDATION", "artifacts.write metadata must be a JSON object.");
  }
  const dirs = runDirs(ctx, exec.runId);
  const path = join(dirs.artifactsDir, name);
  const bytes = Buffer.from(bodyBase64, "base64");
  mkdirSync(dirs.artifactsDir, { recursive: true });
  writeFileSync(path, bytes);
  assertOpen(ctx);
  const row = await ctx.store.createArtifact({
    runId: exec.runId,
    name,
    contentType,
    path,
    size: bytes.byteLength,
    ...(metadata === undefined
      ? {}
      : { metadata: exec.redactor.redactDeep(metadata as Record<string, unknown>) }),
  });
  return { id: row.id, name: row.name, url: pathToFileURL(path).href };
}

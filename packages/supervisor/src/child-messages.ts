/**
 * Messages from a run process, validated on receipt and routed: event bodies to the run's event
 * log (only the kinds a run process may emit; agent frames only with an agent turn id; a
 * `model_call` priced and counted on the way), host calls, usage reports, memory dirs, and the program's `done` / `failed` report. A malformed or
 * forbidden message is dropped and logged, never fatal to the run. A value nested past the JSON
 * depth limit is refused before anything reads it: in a host call, the call is answered with the
 * error; in an event or a report, the run fails with it and its process is ended.
 */
import type { EngineError } from "@promenade/workflow/errors";
import { isEngineErrorCode } from "@promenade/workflow/errors";
import { recordModelCall, reportUsage } from "./budgets.ts";
import { logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass } from "./execution.ts";
import { answerHostCall } from "./host-calls.ts";
import { childMessageDepthError } from "./internal/child-limits.ts";
import { safeKill, sendToChild } from "./internal/child-process.ts";
import { shapeOf } from "./internal/errors.ts";
import { parseChildMessage } from "./internal/protocol-schemas.ts";
import { isValidRelativeDir } from "./internal/run-dir.ts";
import { CHILD_EMITTABLE_KINDS } from "./protocol.ts";
import type { BatchableChildMessage, ChildMessage } from "./protocol.ts";

/** How long a process may stay alive after reporting before it is SIGKILLed. */
const EXIT_AFTER_REPORT_MS = 5_000;

/** Passes whose process sent a value past the depth limit: nothing more it sends is read. */
const refusedPasses = new WeakSet<Pass>();

/** Handles one message of `pass`'s process. */
export function onChildMessage(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  raw: unknown,
): void {
  if (ctx.isClosing()) return;
  const parsed = parseChildMessage(raw);
  if (!parsed.ok) {
    logRun(ctx, exec, `dropped a malformed message from the run process (${parsed.problem})`);
    return;
  }
  const message: ChildMessage = parsed.message;
  if (refusedPasses.has(pass)) return;
  if (message.type === "batch") {
    for (const inner of message.messages) {
      if (isBatchable(inner)) onChildMessage(ctx, exec, pass, inner);
      else logRun(ctx, exec, "dropped a message the run process may not batch");
    }
    return;
  }
  // Before dispatch: the event log, redaction and the store walk values recursively.
  const tooDeep = childMessageDepthError(message);
  if (tooDeep !== null) {
    if (message.type === "host_call") refuseHostCall(ctx, exec, pass, message.callId, tooDeep);
    else refusePass(ctx, exec, pass, tooDeep);
    return;
  }
  switch (message.type) {
    case "ready":
      // The boot is over (the pass's process listener frees its boot slot); nothing to record.
      return;
    case "host_call":
      void answerHostCall(ctx, exec, pass, message.callId, message.method, message.args);
      return;
    case "emit": {
      const kind = message.body.kind;
      if (!CHILD_EMITTABLE_KINDS.has(kind)) {
        logRun(
          ctx,
          exec,
          `dropped a "${kind}" event from the run process (supervisor-owned or unknown kind)`,
        );
        return;
      }
      if (kind === "phase") {
        // Run-level frame: always the run's id, whatever the child claimed.
        exec.log.stamp(message.body);
        return;
      }
      if (message.turnId === undefined || message.turnId === exec.runId) {
        logRun(ctx, exec, `dropped a "${kind}" event without an agent turn id`);
        return;
      }
      if (kind === "model_call") {
        recordModelCall(ctx, exec, pass, message.body, message.turnId);
        return;
      }
      exec.log.stamp(message.body, message.turnId);
      return;
    }
    case "turn_started": {
      if (message.turnId === exec.runId) {
        logRun(ctx, exec, `dropped a turn_started whose turn id is the run id`);
        return;
      }
      exec.log.newBlock();
      const body: Record<string, unknown> = { kind: "turn_started", agentId: message.agentId };
      if (message.agentName !== undefined) body.agentName = message.agentName;
      exec.log.stamp(body as { kind: string }, message.turnId);
      return;
    }
    case "report_usage":
      reportUsage(ctx, exec, pass, message.modelRef, message.usage);
      return;
    case "memory_used":
      if (isValidRelativeDir(message.dir)) exec.memoryDirs.add(message.dir);
      else logRun(ctx, exec, `ignored memory dir "${message.dir}" (not workspace-relative)`);
      return;
    case "done":
    case "failed":
      if (pass.report !== null || pass.budget !== null) return;
      pass.report =
        message.type === "done"
          ? { kind: "done", output: message.output, outputDeclared: message.outputDeclared }
          : {
              kind: "failed",
              // A code outside the closed list cannot reach a row or an event.
              error: isEngineErrorCode(message.error.code)
                ? message.error
                : { ...message.error, code: "PROGRAM_ERROR" },
              output: message.output,
              outputDeclared: message.outputDeclared,
            };
      // The program has settled: the duration budget no longer applies to this pass, and a
      // process that does not exit on its own after reporting is ended.
      pass.timers.abort();
      {
        const child = pass.child;
        const watchdog = setTimeout(() => {
          if (!pass.exited && child !== null) safeKill(child, "SIGKILL");
        }, EXIT_AFTER_REPORT_MS);
        watchdog.unref();
        pass.onExit.push(() => clearTimeout(watchdog));
      }
      return;
  }
}

const BATCHABLE_TYPES: ReadonlySet<unknown> = new Set<BatchableChildMessage["type"]>([
  "emit",
  "turn_started",
  "report_usage",
  "memory_used",
]);

/** True for a value that claims to be a fire-and-forget message (it is validated on dispatch). */
function isBatchable(raw: unknown): boolean {
  return (
    typeof raw === "object" && raw !== null && BATCHABLE_TYPES.has((raw as { type?: unknown }).type)
  );
}

/** Answers a host call whose arguments nest past the depth limit with the refusal. */
function refuseHostCall(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  callId: number,
  error: EngineError,
): void {
  logRun(ctx, exec, `refused a host call: ${error.message}`);
  const child = pass.child;
  if (child === null || pass.exited || !child.connected) return;
  sendToChild(child, { type: "host_result", callId, result: { ok: false, error: shapeOf(error) } });
}

/**
 * Fails the pass with `error` (an event or a report nested past the depth limit) and ends its
 * process, like a budget breach: the value is never stamped, redacted or stored, and nothing
 * the process sends afterwards is read. A report or a breach already recorded wins.
 */
function refusePass(ctx: SupervisorContext, exec: Execution, pass: Pass, error: EngineError): void {
  refusedPasses.add(pass);
  logRun(ctx, exec, `ending the run process: ${error.message}`);
  if (pass.report !== null || pass.budget !== null) return;
  pass.report = { kind: "failed", error: shapeOf(error), output: null, outputDeclared: false };
  pass.timers.abort();
  if (pass.child !== null && !pass.exited) safeKill(pass.child, "SIGKILL");
}

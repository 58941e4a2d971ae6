/**
 * One pass's run process: taken from the warm pool, or created through the boot queue (on a later
 * turn, a bounded number booting at once; a pass stopped before its turn ends without a process),
 * sent its `init`, its stdout and
 * stderr captured as `program_output` events (UTF-8 safe, secret tails held back across chunks),
 * its messages routed, its exit observed and drained, and cancel signals (SIGTERM, then SIGKILL
 * after the grace). The pass settles with its outcome once the process has reported and closed
 * its output pipes, or has exited and its pipes closed — or `DRAIN_AFTER_EXIT_MS` after the exit,
 * whichever comes first.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { armDeadline } from "./budgets.ts";
import type { Deadline } from "./budgets.ts";
import { onChildMessage } from "./child-messages.ts";
import { logRun } from "./context.ts";
import { dropGates } from "./human-input.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass, PassOutcome } from "./execution.ts";
import { BOOT_SLOT_MS } from "./internal/boot-queue.ts";
import { safeKill, sendToChild } from "./internal/child-process.ts";
import { describe } from "./internal/errors.ts";
import type { RunDirs } from "./internal/run-dir.ts";
import type { ChildEnvironment } from "./internal/secrets.ts";
import type { InitMessage } from "./protocol.ts";
import { passSkillsDir } from "./skills.ts";

/** How long the pipes and IPC channel may drain after the process exited. */
const DRAIN_AFTER_EXIT_MS = 2_000;
/** How long a held output tail (a possible secret prefix) waits for the next chunk. */
const OUTPUT_HOLD_MS = 100;

/**
 * Starts a pass of `exec`: becomes `exec.pass` at once, and resolves with the pass's outcome.
 * A warm process is taken and sent `init` at once; otherwise the process is queued for creation
 * and this returns without spawning. A launch that throws (or a spawn error) is a crash. Nothing
 * the process sends is handled before the caller's current turn ends.
 */
export function startPass(
  ctx: SupervisorContext,
  exec: Execution,
  dirs: RunDirs,
  childEnv: ChildEnvironment,
  deadline: Deadline | null,
): Promise<PassOutcome> {
  // Before the spawn: a skills set that cannot be written fails the run, not an orphaned child.
  const skillsDir = passSkillsDir(ctx, exec);
  const pass: Pass = {
    child: null,
    dropBoot: null,
    report: null,
    budget: null,
    exited: false,
    exitDetail: "unknown",
    timers: new AbortController(),
    onExit: [],
    gates: new Map(),
    childWaits: 0,
  };
  exec.pass = pass;
  // The pass's start (until its program first speaks) and its finish (from its report on) are
  // windows the warm pool's refills stay out of.
  let window: (() => void) | null = ctx.boots.hold();
  const closeWindow = (): void => {
    window?.();
    window = null;
  };
  return new Promise<PassOutcome>((resolvePass) => {
    let settled = false;
    let drain: NodeJS.Timeout | undefined;
    const settlePass = (): void => {
      if (settled) return;
      settled = true;
      closeWindow();
      if (drain !== undefined) clearTimeout(drain);
      pass.timers.abort();
      dropGates(pass);
      if (exec.pass === pass) exec.pass = null;
      if (pass.report !== null) resolvePass(pass.report);
      else if (pass.budget !== null) resolvePass({ kind: "budget", reason: pass.budget });
      else resolvePass({ kind: "crash", detail: pass.exitDetail });
    };

    const attach = (child: ChildProcess, pooled: boolean, bootOver: () => void): void => {
      pass.child = child;
      captureOutput(ctx, exec, child, "stdout");
      captureOutput(ctx, exec, child, "stderr");
      // A process that has reported and closed its output has nothing more to say: the pass
      // settles then, without waiting for its exit to be observed (it exits right after).
      let openStreams = 0;
      const settleIfReported = (): void => {
        if (openStreams === 0 && pass.report !== null) settlePass();
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (stream === null || stream.readableEnded) continue;
        openStreams += 1;
        stream.once("end", () => {
          openStreams -= 1;
          settleIfReported();
        });
      }
      child.on("message", (raw: unknown) => {
        // Its first message (the runtime's `ready`) ends the process's boot.
        bootOver();
        onChildMessage(ctx, exec, pass, raw);
        if (settled) return;
        if (pass.report !== null) window ??= ctx.boots.hold();
        else if (!isReady(raw)) closeWindow();
        settleIfReported();
      });
      child.on("error", (err) => {
        bootOver();
        logRun(ctx, exec, `run process error: ${err.message}`);
        if (child.pid === undefined) {
          pass.exitDetail = `spawn failed: ${err.message}`;
          pass.exited = true;
          settlePass();
        }
      });
      const onExited = (code: number | null, signal: NodeJS.Signals | null): void => {
        bootOver();
        if (pass.exited) return;
        pass.exited = true;
        pass.exitDetail = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
        for (const fn of pass.onExit) fn();
        // A pass that settled on its report and closed output has nothing left to drain (a
        // timer armed now would only keep the engine's process alive after its last run).
        if (settled) return;
        // Wait for the pipes and the IPC channel to drain, but never forever (grandchildren
        // holding the pipes open must not stall the run).
        drain = setTimeout(settlePass, DRAIN_AFTER_EXIT_MS);
      };
      if (child.exitCode !== null || child.signalCode !== null) {
        onExited(child.exitCode, child.signalCode);
      } else {
        child.once("exit", onExited);
      }
      child.once("close", () => {
        if (!pass.exited) onExited(child.exitCode, child.signalCode);
        settlePass();
      });

      const agentsMd = workflowAgentsMd(skillsDir);
      const init: InitMessage = {
        type: "init",
        runId: exec.runId,
        workflowId: exec.workflow.id,
        programPath: dirs.programPath,
        workspaceDir: dirs.workspaceDir,
        skillsDir,
        ...(agentsMd === null ? {} : { agentsMd }),
        agentBuiltins: ctx.agentBuiltins,
        ...(ctx.hostMethods.web_search === undefined ? {} : { webSearch: true }),
        input: exec.input,
        config: exec.workflow.config,
        envSecrets: childEnv.envSecrets,
        ...(pooled ? { env: childEnv.env } : {}),
      };
      sendToChild(child, init);
    };

    /** The pass ends without a process: none was started, none will be. */
    const endUnstarted = (detail: string): void => {
      pass.dropBoot = null;
      pass.exited = true;
      pass.exitDetail = detail;
      settlePass();
    };

    const warm = ctx.pool?.take() ?? null;
    if (warm !== null) {
      attach(warm, true, () => undefined);
    } else {
      // The process is created on a later turn, once fewer than the bound are booting.
      const ticket = ctx.boots.enqueue(
        (release) => {
          pass.dropBoot = null;
          if (settled) {
            release();
            return;
          }
          let child: ChildProcess;
          try {
            child = ctx.spawn({ cwd: dirs.workspaceDir, env: childEnv.env });
          } catch (err) {
            release();
            endUnstarted(`spawn failed: ${describe(err)}`);
            return;
          }
          let over = false;
          const bootOver = (): void => {
            if (over) return;
            over = true;
            clearTimeout(valve);
            release();
          };
          const valve = setTimeout(bootOver, BOOT_SLOT_MS);
          valve.unref();
          attach(child, false, bootOver);
        },
        () => endUnstarted("the supervisor closed before the run process started"),
      );
      pass.dropBoot = () => {
        if (ticket.cancel()) endUnstarted("stopped before its process started");
      };
    }

    if (deadline !== null) armDeadline(ctx, pass, deadline);
  });
}

/** Cancel signals for the current pass: SIGTERM now, SIGKILL once `cancelGraceMs` has passed. */
export function signalCancel(ctx: SupervisorContext, exec: Execution): void {
  const pass = exec.pass;
  if (pass === null || pass.exited) return;
  const child = pass.child;
  if (child === null) {
    // Still waiting to boot: it never starts, the pass ends without a process.
    pass.dropBoot?.();
    return;
  }
  safeKill(child, "SIGTERM");
  const grace = new AbortController();
  pass.onExit.push(() => grace.abort());
  ctx.clock.sleep(ctx.cancelGraceMs, grace.signal).then(
    () => {
      if (!pass.exited) safeKill(child, "SIGKILL");
    },
    () => undefined,
  );
}

/** The runtime's `ready`: the process booted (it says nothing of the program yet). */
function isReady(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && (raw as { type?: unknown }).type === "ready";
}

/**
 * The workflow's AGENTS.md stored with the deploy: the engine writes it at `.workflow/AGENTS.md`
 * of the deployed files directory (a path no skill name can take). `null` when none.
 */
function workflowAgentsMd(dir: string | null): string | null {
  if (dir === null) return null;
  try {
    return readFileSync(join(dir, ".workflow", "AGENTS.md"), "utf8");
  } catch {
    return null;
  }
}

function captureOutput(
  ctx: SupervisorContext,
  exec: Execution,
  child: ChildProcess,
  stream: "stdout" | "stderr",
): void {
  const source = child[stream];
  if (source === null) return;
  // A stream decoder keeps a multi-byte character split across chunks in one event.
  const decoder = new TextDecoder("utf-8");
  // With secrets known, the tail that could be the start of a secret split across chunks is
  // held back (and released on the next chunk, after a short idle, or at end of stream). The
  // redactor's stream sees the run's live secret set, so a secret resolved later counts too.
  const redacting = exec.redactor.stream();
  let idle: NodeJS.Timeout | undefined;
  const emit = (text: string): void => {
    if (text !== "") exec.log.stamp({ kind: "program_output", stream, text });
  };
  const release = (): void => {
    if (idle !== undefined) clearTimeout(idle);
    idle = undefined;
    emit(redacting.flush());
  };
  source.on("data", (chunk: Buffer) => {
    if (idle !== undefined) clearTimeout(idle);
    idle = undefined;
    emit(redacting.push(decoder.decode(chunk, { stream: true })));
    if (redacting.pending > 0) idle = setTimeout(release, OUTPUT_HOLD_MS);
  });
  source.on("end", () => {
    emit(redacting.push(decoder.decode()));
    release();
  });
  source.on("error", (err) => {
    logRun(ctx, exec, `${stream} pipe error: ${err.message}`);
  });
}

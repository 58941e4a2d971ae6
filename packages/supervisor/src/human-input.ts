/**
 * Human-input gates: a program (or its agent's `human_input` tool) asks a person and its call
 * waits, the process alive, until the answer arrives. One gate per key per pass; its durable
 * answer slot is the store's request row, so a restarted pass reaching an answered key gets the
 * stored answer at once and a pending key re-attaches without asking again. While at least one
 * gate of the pass waits, the run is `awaiting_input` (see `held-status.ts`). An answer is checked
 * against the gate's stored form before anything is written, and only the first one is stored.
 * A gate with a timeout expires durably: its default answer is delivered, or the pass is ended
 * for a `BUDGET_EXCEEDED` failure naming the key.
 * Every write of an executing run goes through its event log, so the gate's events take cursors
 * in the run's envelope, in commit order.
 */
import type { JsonValue } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { andThen, attempt } from "@promenade/workflow/records";
import { answerLost, checkAnswerArguments, checkedAnswer } from "./answer-checks.ts";
import { breachBudget } from "./budgets.ts";
import { readGateRequest } from "./internal/gate-request.ts";
import type { GateRequest } from "./internal/gate-request.ts";
import { assertOpen, logRun } from "./context.ts";
import type { SupervisorContext } from "./context.ts";
import type { Execution, Pass } from "./execution.ts";
import type { Awaitable, HumanInputRequestRow, InputSettlement } from "./ports.ts";
import { syncHeldStatus } from "./held-status.ts";

/** One gate of a pass: the calls waiting on a key, and whether its request is pending. */
export interface Gate {
  key: string;
  /** True once the request row is known to be pending (the run is then held). */
  waiting: boolean;
  /** Settled once: with the answer, or with the reason the calls fail. */
  settled: boolean;
  promise: Promise<JsonValue>;
  resolve(value: JsonValue): void;
  reject(error: unknown): void;
  /** Stops the gate's timeout timer. */
  timer: AbortController;
}

/**
 * The `human_input` host call: opens (or joins, or re-attaches to) the gate of `args.key` and
 * resolves with its answer. Rejects `VALIDATION` for malformed arguments, `CANCELLED` when the
 * run is being cancelled.
 */
export async function openGate(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  args: Record<string, unknown>,
): Promise<JsonValue> {
  if (exec.cancelRequested) throw cancelledError();
  const request = readGateRequest(args);
  const joined = pass.gates.get(request.key);
  // Two calls waiting on the same key at once share one request and one answer.
  if (joined !== undefined) return joined.promise;
  const gate = newGate(request.key);
  pass.gates.set(request.key, gate);
  void attempt(
    () => attach(ctx, exec, pass, gate, request),
    (err: unknown) => finish(ctx, exec, pass, gate, { error: err }),
  );
  return gate.promise;
}

async function attach(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  gate: Gate,
  request: GateRequest,
): Promise<void> {
  const { runId } = exec;
  let row = await ctx.store.getInputRequest(runId, request.key);
  assertOpen(ctx);
  if (gate.settled || exec.pass !== pass) return;
  if (row === null) {
    const prompt = exec.redactor.redact(request.prompt);
    const created = await exec.log.commitEvent(
      "could not record the human-input request",
      (pending, stamp) =>
        ctx.store.createInputRequest(runId, {
          key: request.key,
          prompt,
          inputSpec: request.spec as unknown as JsonValue,
          assignees: request.assignees,
          timeoutMs: request.timeout?.ms ?? null,
          pending,
          ...(stamp === undefined ? {} : { stamp }),
        }),
    );
    row = created.request;
    assertOpen(ctx);
    if (gate.settled || exec.pass !== pass) return;
  }
  switch (row.status) {
    case "resolved":
      // Answered through another node of a cluster: this pass writes the answer's event.
      await announce(ctx, exec, request.key);
      if (gate.settled || exec.pass !== pass) return;
      finish(ctx, exec, pass, gate, { value: row.response });
      return;
    case "expired":
      if (row.response !== null) finish(ctx, exec, pass, gate, { value: row.response });
      else timedOutFail(ctx, exec, pass, gate, request);
      return;
    case "cancelled":
      finish(ctx, exec, pass, gate, { error: cancelledError() });
      return;
    case "pending":
      gate.waiting = true;
      syncHeldStatus(ctx, exec);
      if (row.expiresAt !== null) armTimeout(ctx, exec, pass, gate, request, row.expiresAt);
      return;
  }
}

/**
 * Answers a pending request of `runId` (the engine's `respondToInput`): checks, in order, that
 * the run exists (`NOT_FOUND` "Unknown run"), that the key has a pending request (`NOT_FOUND`
 * "No pending human-input request"), that the answer fits the gate's form (`VALIDATION`), then
 * stores it only if still pending (`CONFLICT` "already answered" when another answer won) and
 * wakes the waiting call. `exec` is the run's owner in this supervisor, if any: its writes then
 * take cursors in the run's envelope; without one the store stamps a fresh block. Synchronous
 * over a synchronous store with the run's write queue idle.
 */
export function answerInput(
  ctx: SupervisorContext,
  exec: Execution | undefined,
  runId: string,
  key: string,
  value: unknown,
  respondedBy: string | null,
): Awaitable<HumanInputRequestRow> {
  assertOpen(ctx);
  checkAnswerArguments(runId, key, respondedBy);
  return andThen(ctx.store.getRun(runId), (run) => {
    if (run === null) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    return andThen(ctx.store.getInputRequest(runId, key), (row) => {
      const response = checkedAnswer(row, runId, key, value);
      const settlement: InputSettlement = { status: "resolved", response, respondedBy };
      return andThen(
        settle(ctx, exec, runId, key, settlement, "could not record the answer"),
        (settled) => {
          if (settled === null) {
            return andThen(ctx.store.getInputRequest(runId, key), (now) => {
              throw answerLost(now, runId, key);
            });
          }
          wake(ctx, exec, key, response);
          return settled;
        },
      );
    });
  });
}

/**
 * An answer another node of a cluster stored for this run: writes its `human_input_resolved`
 * event in the run's envelope and wakes the waiting call of `key`. False when nothing was
 * waiting for it here (the event is then written by the pass that reaches the key).
 */
export async function takeRemoteAnswer(
  ctx: SupervisorContext,
  exec: Execution,
  key: string,
): Promise<boolean> {
  const pass = exec.pass;
  const gate = pass?.gates.get(key);
  if (pass === null || gate === undefined || !gate.waiting || exec.ended) return false;
  const row = await announce(ctx, exec, key);
  if (row === null || gate.settled || exec.pass !== pass) return false;
  finish(ctx, exec, pass, gate, { value: row.response });
  return true;
}

/** Writes the event of an answer stored through another node, if the request has one. */
function announce(
  ctx: SupervisorContext,
  exec: Execution,
  key: string,
): Awaitable<HumanInputRequestRow | null> {
  const { store } = ctx;
  if (store.announceInputAnswer === undefined) return null;
  return exec.log.commitEvent(
    "could not record the answer",
    (pending, stamp) =>
      store.announceInputAnswer?.(exec.runId, key, {
        pending,
        ...(stamp === undefined ? {} : { stamp }),
      }) ?? null,
  );
}

/** Closes the gates of a pass that ended: nobody waits on them any more (the rows stay). */
export function dropGates(pass: Pass): void {
  for (const gate of pass.gates.values()) {
    gate.timer.abort();
    settleGate(gate, { error: new EngineError("INTERNAL", "The run process ended.") });
  }
  pass.gates.clear();
}

/** A cancel was requested: every waiting call of the pass rejects `CANCELLED`. */
export function cancelGates(exec: Execution): void {
  const pass = exec.pass;
  if (pass === null) return;
  for (const gate of pass.gates.values()) {
    gate.timer.abort();
    settleGate(gate, { error: cancelledError() });
  }
  pass.gates.clear();
}

function settle(
  ctx: SupervisorContext,
  exec: Execution | undefined,
  runId: string,
  key: string,
  settlement: InputSettlement,
  what: string,
): Awaitable<HumanInputRequestRow | null> {
  if (exec === undefined || exec.ended) return ctx.store.settleInputRequest(runId, key, settlement);
  return exec.log.commitEvent(what, (pending, stamp) =>
    ctx.store.settleInputRequest(runId, key, {
      ...settlement,
      pending,
      ...(stamp === undefined ? {} : { stamp }),
    }),
  );
}

/** Delivers an answer to the waiting gate of `key`, if the run's current pass has one. */
function wake(
  ctx: SupervisorContext,
  exec: Execution | undefined,
  key: string,
  value: JsonValue,
): void {
  const pass = exec?.pass ?? null;
  if (exec === undefined || pass === null) return;
  const gate = pass.gates.get(key);
  if (gate === undefined) return;
  finish(ctx, exec, pass, gate, { value });
}

function finish(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  gate: Gate,
  outcome: { value: JsonValue } | { error: unknown },
): void {
  gate.timer.abort();
  settleGate(gate, outcome);
  if (pass.gates.get(gate.key) === gate) pass.gates.delete(gate.key);
  if (gate.waiting) {
    gate.waiting = false;
    if (exec.pass === pass) syncHeldStatus(ctx, exec);
  }
}

function settleGate(gate: Gate, outcome: { value: JsonValue } | { error: unknown }): void {
  if (gate.settled) return;
  gate.settled = true;
  if ("value" in outcome) gate.resolve(outcome.value);
  else gate.reject(outcome.error);
}

function armTimeout(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  gate: Gate,
  request: GateRequest,
  expiresAt: number,
): void {
  const signal = AbortSignal.any([pass.timers.signal, gate.timer.signal]);
  ctx.clock.sleep(Math.max(0, expiresAt - ctx.clock.now()), signal).then(
    () => {
      void attempt(
        () => expire(ctx, exec, pass, gate, request),
        (err: unknown) => {
          logRun(ctx, exec, `could not expire human-input request "${gate.key}": ${String(err)}`);
        },
      );
    },
    () => undefined,
  );
}

async function expire(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  gate: Gate,
  request: GateRequest,
): Promise<void> {
  if (gate.settled || exec.pass !== pass || exec.ended || exec.cancelRequested) return;
  const settled = await settle(
    ctx,
    exec,
    exec.runId,
    gate.key,
    { status: "expired", response: request.onTimeoutValue },
    "could not record the human-input timeout",
  );
  // Answered (or cancelled) just before: that settlement wakes the gate.
  if (settled === null) return;
  if (request.onTimeoutValue !== null) {
    finish(ctx, exec, pass, gate, { value: request.onTimeoutValue });
    return;
  }
  timedOutFail(ctx, exec, pass, gate, request);
}

/** A gate whose timeout fails the run: the pass ends `BUDGET_EXCEEDED`, naming the key. */
function timedOutFail(
  ctx: SupervisorContext,
  exec: Execution,
  pass: Pass,
  gate: Gate,
  request: GateRequest,
): void {
  const after = request.timeout === null ? "" : ` (${request.timeout.text})`;
  const reason = `Human input "${gate.key}" reached its timeout${after} without an answer.`;
  breachBudget(pass, reason);
  finish(ctx, exec, pass, gate, { error: new EngineError("BUDGET_EXCEEDED", reason) });
}

function newGate(key: string): Gate {
  let resolve!: (value: JsonValue) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<JsonValue>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A gate dropped with its pass has nobody listening.
  promise.catch(() => undefined);
  return {
    key,
    waiting: false,
    settled: false,
    promise,
    resolve,
    reject,
    timer: new AbortController(),
  };
}

function cancelledError(): EngineError {
  return new EngineError("CANCELLED", "The run was cancelled while waiting for human input.");
}

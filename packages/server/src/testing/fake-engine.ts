/**
 * The fake engine: an in-memory `EngineApi` for route, WebSocket and UI tests. Runs
 * are driven either by hand (`emit`, `setStatus`) or by a scripted behaviour per workflow that
 * plays phases, logs, agent turns and sleeps and honours cancellation.
 * It behaves like an engine on a network database: every `EngineApi` method answers with a
 * promise that settles on a later turn of the event loop, computed when the call was made, so
 * events keep being published while a read is in flight. Published events carry their workflow
 * id and slug, per run in cursor order (the `turn * 1_000_000 + seq` stride); a terminal
 * `run_status` is the last event of its run. `setHealthy(false)` takes the "database" away.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateMeta } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import {
  isTerminal,
  parseHumanInputSpec,
  validateHumanInputAnswer,
} from "@promenade/workflow/records";
import type {
  ArtifactRow,
  EngineApi,
  EventRow,
  HumanInputRequestRow,
  HumanInputStatus,
  JsonValue,
  ListRunsQuery,
  PublishedEvent,
  RunRow,
  RunStatus,
  StartRunOnceOptions,
  WorkflowRow,
  WorkflowVersionSummary,
} from "../ports.ts";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** How long a request key stays bound to its run (the real store's 24 hours). */
const REQUEST_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a scripted run can do. */
export interface FakeRunControl {
  readonly runId: string;
  readonly input: unknown;
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal;
  phase(name: string): void;
  log(text: string, stream?: "stdout" | "stderr"): void;
  output(value: JsonValue): void;
  /** Emit an agent turn: text deltas and an optional tool call, then `turn_ended`. */
  agentTurn(turn: {
    agentName?: string;
    text: string[];
    tool?: { name: string; input: Record<string, unknown>; summary: string };
    usage?: { inputTokens: number; outputTokens: number };
    /**
     * The turn's one model request as the engine's ledger records it (a priced `model_call`
     * carrying `usage`); its price is added to the run's `usdMicros`.
     */
    call?: { model: string; usdMicros: number; estimated?: boolean };
  }): void;
  /** Emit any event body (kind + fields); the envelope is added. */
  emit(body: Record<string, unknown>, turnId?: string): EventRow;
  writeArtifact(name: string, contentType: string, body: string | Buffer): void;
  /** Resolves after `ms`, rejects when cancelled. */
  sleep(ms: number): Promise<void>;
  /**
   * A human-input gate, like a program's `humanInput()`: records the request (or finds it), holds
   * the run `awaiting_input` until `respondToInput` answers it, then resolves with the checked
   * answer; a key already answered resolves at once. Rejects when cancelled.
   */
  humanInput(request: {
    key: string;
    prompt: string;
    input: unknown;
    assignees?: string[];
  }): Promise<JsonValue>;
}

/** A scripted workflow body; its return value is the run output. */
export type FakeBehavior = (run: FakeRunControl) => Promise<JsonValue | undefined>;

/** Options of {@link createFakeEngine}. */
export interface FakeEngineOptions {
  /** Scripted behaviour per slug; runs of other workflows stay `queued` until driven by hand. */
  behaviors?: Record<string, FakeBehavior>;
  /** Clock (epoch ms). Default `Date.now`. */
  now?: () => number;
  /** Where artifacts are written. Default: a fresh temp directory. */
  dataDir?: string;
  /**
   * How long each `EngineApi` answer takes, ms. Default `0`: the next turn of the event loop
   * (after pending I/O and timers), not merely a microtask.
   */
  latencyMs?: number;
  /**
   * When listeners hear about an event: `"sync"` (default) in the appending call, like SQLite;
   * `"deferred"` on a later turn, in order, like PostgreSQL's feed after its COMMIT resolves.
   */
  publish?: "sync" | "deferred";
  /** The engine's cron evaluation (`EngineApi.nextCronFire`); absent: the fake has none. */
  nextCronFire?: (expr: string, timezone: string | undefined, afterMs: number) => number | null;
}

/**
 * A workflow's `meta` as a test writes it: validated with the SDK's `validateMeta`, so the row
 * carries the canonical manifest with defaults; `triggers` defaults to a manual trigger.
 */
export type FakeManifest = { slug: string } & Record<string, unknown>;

/** The fake plus its test controls. Its `EngineApi` methods always answer with promises. */
export interface FakeEngine extends EngineApi {
  listWorkflows(): Promise<WorkflowRow[]>;
  getWorkflow(slug: string): Promise<WorkflowRow | null>;
  getWorkflowById(id: string): Promise<WorkflowRow | null>;
  deployWorkflow(args: {
    program: string;
    skills?: Record<string, string>;
    config?: Record<string, JsonValue>;
  }): Promise<WorkflowRow>;
  startRun(
    slug: string,
    options: { input?: JsonValue; triggerKind: "manual" | "webhook"; version?: number },
  ): Promise<RunRow>;
  listWorkflowVersions(workflowId: string): Promise<WorkflowVersionSummary[]>;
  startRunOnce(
    slug: string,
    options: StartRunOnceOptions,
  ): Promise<{ run: RunRow; created: boolean }>;
  cancelRun(runId: string): Promise<void>;
  getRun(runId: string): Promise<RunRow | null>;
  listRuns(query: ListRunsQuery): Promise<RunRow[]>;
  listEvents(runId: string, query: { afterCursor: number; limit: number }): Promise<EventRow[]>;
  maxCursor(runId: string): Promise<number>;
  listArtifacts(runId: string): Promise<ArtifactRow[]>;
  ping(): Promise<void>;
  listInputRequests(filter: {
    runId?: string;
    statuses?: readonly HumanInputStatus[];
  }): Promise<HumanInputRequestRow[]>;
  respondToInput(
    runId: string,
    key: string,
    value: unknown,
    options: { respondedBy?: string },
  ): Promise<HumanInputRequestRow>;
  /** Deploy from a manifest directly (no program parsing). */
  addWorkflow(manifest: FakeManifest, config?: Record<string, JsonValue>): WorkflowRow;
  /** Append an event to a run (envelope added) and publish it. */
  emit(runId: string, body: Record<string, unknown>, turnId?: string): EventRow;
  /** Update the run row and append its `run_status` event in one step. */
  setStatus(runId: string, status: RunStatus, patch?: Partial<RunRow>): void;
  /** Attach an artifact row (the file is written under the run's artifacts dir). */
  writeArtifact(
    runId: string,
    name: string,
    contentType: string,
    body: string | Buffer,
  ): ArtifactRow;
  /** Add an artifact row pointing anywhere (for path-containment tests). */
  addArtifactRow(row: Omit<ArtifactRow, "id" | "createdAt">): ArtifactRow;
  /** Resolves when the run is terminal. */
  waitForRun(runId: string): Promise<RunRow>;
  /** Listener count (for leak checks). */
  listenerCount(): number;
  /**
   * Take the database away (`false`) or bring it back: while unhealthy, `ping` and every method
   * that reads or writes rows fail with `INTERNAL`, like an engine whose database is down.
   * Test controls (`emit`, `setStatus`, `peek…`) keep working.
   */
  setHealthy(healthy: boolean): void;
  /** The run row now (test inspection; synchronous). */
  peekRun(runId: string): RunRow | null;
  /** Every run, oldest first (test inspection; synchronous). */
  peekRuns(): RunRow[];
  /** The run's stored events now, cursor ascending (test inspection; synchronous). */
  peekEvents(runId: string): EventRow[];
  /** The data directory. */
  readonly dataDir: string;
}

/** Create an in-memory engine. `deployWorkflow` accepts programs whose `meta` is a JSON literal. */
export function createFakeEngine(options: FakeEngineOptions = {}): FakeEngine {
  const now = options.now ?? Date.now;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "promenade-fake-"));
  const behaviors = options.behaviors ?? {};
  const workflows = new Map<string, WorkflowRow>();
  const runs: RunRow[] = [];
  const runById = new Map<string, RunRow>();
  const events = new Map<string, EventRow[]>();
  const positions = new Map<string, { block: number; seq: number }>();
  const artifacts: ArtifactRow[] = [];
  const listeners = new Set<(row: PublishedEvent) => void>();
  const controllers = new Map<string, AbortController>();
  const waiters = new Map<string, ((row: RunRow) => void)[]>();
  const requests: HumanInputRequestRow[] = [];
  /** Waiting `humanInput` calls by run and key. */
  const gates = new Map<string, (value: JsonValue) => void>();
  const gateOf = (runId: string, key: string): string => `${runId} ${key}`;
  let healthy = true;
  let lastTime = 0;
  let counter = 0;
  const latencyMs = options.latencyMs ?? 0;
  const publishDeferred = options.publish === "deferred";
  /** Deferred publishing: events waiting for their turn, in append order. */
  let unpublished: PublishedEvent[] = [];

  const later = (settle: () => void): void => {
    if (latencyMs > 0) setTimeout(settle, latencyMs);
    else setImmediate(settle);
  };
  /** An `EngineApi` answer: computed now (a database call), delivered on a later turn. */
  const answer = <T>(compute: () => T): Promise<T> => {
    let outcome: { ok: true; value: T } | { ok: false; error: Error };
    try {
      if (!healthy) throw new EngineError("INTERNAL", "The database cannot be reached.");
      outcome = { ok: true, value: compute() };
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    return new Promise<T>((resolve, reject) =>
      later(() => (outcome.ok ? resolve(outcome.value) : reject(outcome.error))),
    );
  };
  const notify = (published: PublishedEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(published);
      } catch {
        // A throwing listener never affects the run.
      }
    }
  };
  const publish = (published: PublishedEvent): void => {
    if (!publishDeferred) {
      notify(published);
      return;
    }
    unpublished.push(published);
    if (unpublished.length > 1) return;
    setImmediate(() => {
      const batch = unpublished;
      unpublished = [];
      for (const row of batch) notify(row);
    });
  };
  const workflowOfRun = (run: RunRow): WorkflowRow | undefined =>
    [...workflows.values()].find((w) => w.id === run.workflowId);

  const ulid = (): string => {
    let t = now();
    if (t <= lastTime) t = lastTime;
    lastTime = t;
    counter++;
    let time = "";
    for (let i = 0; i < 10; i++) {
      time = (CROCKFORD[t % 32] ?? "0") + time;
      t = Math.floor(t / 32);
    }
    let rest = "";
    let c = counter;
    for (let i = 0; i < 16; i++) {
      rest = (CROCKFORD[c % 32] ?? "0") + rest;
      c = Math.floor(c / 32);
    }
    return time + rest;
  };

  const requireRunRow = (runId: string): RunRow => {
    const run = runById.get(runId);
    if (run === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    return run;
  };

  const emit = (runId: string, body: Record<string, unknown>, turnId?: string): EventRow => {
    const run = requireRunRow(runId);
    const pos = positions.get(runId) ?? { block: 0, seq: 0 };
    if (body["kind"] === "turn_started" && pos.seq > 0) {
      pos.block += 1;
      pos.seq = 0;
    }
    pos.seq += 1;
    if (pos.seq >= 1_000_000) {
      pos.block += 1;
      pos.seq = 1;
    }
    positions.set(runId, pos);
    const cursor = pos.block * 1_000_000 + pos.seq;
    const event = {
      ...body,
      runId,
      turnId: turnId ?? runId,
      seq: pos.seq,
      t: now(),
    } as EventRow["event"];
    const row: EventRow = { runId, cursor, event };
    let list = events.get(runId);
    if (list === undefined) {
      list = [];
      events.set(runId, list);
    }
    list.push(row);
    const workflow = workflowOfRun(run);
    publish({ ...row, workflowId: run.workflowId, workflowSlug: workflow?.slug ?? "" });
    return row;
  };

  const setStatus = (runId: string, status: RunStatus, patch: Partial<RunRow> = {}): void => {
    const run = requireRunRow(runId);
    if (isTerminal(run.status)) return;
    Object.assign(run, patch, { status });
    if (status === "running" && run.startedAt === null) run.startedAt = now();
    if (isTerminal(status)) run.endedAt = now();
    emit(
      runId,
      status === "failed" && run.error !== null
        ? { kind: "run_status", status, error: run.error }
        : { kind: "run_status", status },
    );
    if (isTerminal(status)) {
      for (const request of requests) {
        if (request.runId === runId && request.status === "pending") {
          request.status = "cancelled";
          request.respondedAt = now();
        }
      }
      controllers.delete(runId);
      for (const w of waiters.get(runId) ?? []) w({ ...run });
      waiters.delete(runId);
    }
  };

  /** workflow id → its versions, oldest first (a new one when the content changed). */
  const versions = new Map<string, WorkflowVersionSummary[]>();
  const recordVersion = (row: WorkflowRow): void => {
    const hash = createHash("sha256")
      .update(JSON.stringify([row.manifest, row.program, row.config]))
      .digest("hex");
    const list = versions.get(row.id) ?? [];
    if (list.at(-1)?.hash === hash) return;
    list.push({
      id: ulid(),
      workflowId: row.id,
      number: list.length + 1,
      hash,
      deployedAt: row.updatedAt,
    });
    versions.set(row.id, list);
  };

  const addWorkflow = (
    meta: FakeManifest,
    config: Record<string, JsonValue> = {},
    program = "",
  ): WorkflowRow => {
    if (typeof meta.slug !== "string" || !/^[A-Za-z0-9-]{1,100}$/.test(meta.slug)) {
      throw new EngineError(
        "VALIDATION",
        "meta.slug: expected a slug of letters, digits and dashes",
      );
    }
    const manifest = validateMeta({ triggers: [{ kind: "manual" }], ...meta });
    const existing = workflows.get(manifest.slug);
    const t = now();
    const row: WorkflowRow = {
      id: existing?.id ?? ulid(),
      slug: manifest.slug,
      name: manifest.slug,
      title: manifest.title ?? null,
      manifest,
      program,
      config,
      createdAt: existing?.createdAt ?? t,
      updatedAt: existing === undefined ? t : Math.max(t, existing.updatedAt + 1),
      undeployedAt: null,
    };
    workflows.set(row.slug, row);
    recordVersion(row);
    return row;
  };

  const askHuman = (
    run: RunRow,
    signal: AbortSignal,
    request: { key: string; prompt: string; input: unknown; assignees?: string[] },
  ): Promise<JsonValue> => {
    const found = requests.find((r) => r.runId === run.id && r.key === request.key);
    if (found?.status === "resolved") return Promise.resolve(found.response);
    parseHumanInputSpec(request.input);
    if (found === undefined) {
      const row: HumanInputRequestRow = {
        id: ulid(),
        runId: run.id,
        seq: requests.filter((r) => r.runId === run.id).length + 1,
        key: request.key,
        prompt: request.prompt,
        inputSpec: request.input as JsonValue,
        assignees: request.assignees ?? null,
        status: "pending",
        response: null,
        respondedBy: null,
        createdAt: now(),
        expiresAt: null,
        respondedAt: null,
      };
      requests.push(row);
      emit(run.id, {
        kind: "human_input_requested",
        requestId: row.id,
        key: row.key,
        prompt: row.prompt,
      });
    }
    setStatus(run.id, "awaiting_input");
    return new Promise<JsonValue>((resolve, reject) => {
      gates.set(gateOf(run.id, request.key), resolve);
      signal.addEventListener("abort", () => {
        gates.delete(gateOf(run.id, request.key));
        reject(new EngineError("CANCELLED", "Run cancelled."));
      });
    });
  };

  const respondToInput = (
    runId: string,
    key: string,
    value: unknown,
    respondedBy: string | undefined,
  ): HumanInputRequestRow => {
    requireRunRow(runId);
    const row = requests.find((r) => r.runId === runId && r.key === key && r.status === "pending");
    if (row === undefined) {
      throw new EngineError(
        "NOT_FOUND",
        `No pending human-input request "${key}" for run ${runId}.`,
      );
    }
    const response = validateHumanInputAnswer(
      parseHumanInputSpec(row.inputSpec),
      value,
    ) as unknown as JsonValue;
    Object.assign(row, {
      status: "resolved",
      response,
      respondedBy: respondedBy ?? null,
      respondedAt: now(),
    });
    emit(runId, { kind: "human_input_resolved", requestId: row.id, key });
    const wake = gates.get(gateOf(runId, key));
    if (wake !== undefined) {
      gates.delete(gateOf(runId, key));
      setStatus(runId, "running");
      wake(response);
    }
    return { ...row };
  };

  const execute = (run: RunRow, behavior: FakeBehavior): void => {
    const controller = new AbortController();
    controllers.set(run.id, controller);
    const control: FakeRunControl = {
      runId: run.id,
      input: run.input,
      signal: controller.signal,
      phase: (name) => void emit(run.id, { kind: "phase", name, id: name }),
      log: (text, stream = "stdout") => void emit(run.id, { kind: "program_output", stream, text }),
      output: (value) => {
        run.output = value;
        emit(run.id, { kind: "output", value });
      },
      agentTurn: (turn) => {
        const turnId = ulid();
        const agentId = `agent-${turnId.slice(-6)}`;
        const who =
          turn.agentName === undefined ? { agentId } : { agentId, agentName: turn.agentName };
        emit(run.id, { kind: "turn_started", ...who }, turnId);
        emit(run.id, { kind: "text_start", blockId: "b1" }, turnId);
        for (const text of turn.text)
          emit(run.id, { kind: "text_delta", blockId: "b1", text }, turnId);
        emit(run.id, { kind: "text_end", blockId: "b1" }, turnId);
        const usage = turn.usage ?? { inputTokens: 0, outputTokens: 0 };
        if (turn.call !== undefined) {
          const estimated = turn.call.estimated ?? false;
          const at = now();
          emit(
            run.id,
            {
              kind: "model_call",
              model: turn.call.model,
              provider: "fake",
              startedAt: at,
              endedAt: at,
              usage,
              usdMicros: turn.call.usdMicros,
              rate: { source: estimated ? "default" : "built-in", version: "fake" },
              estimated,
            },
            turnId,
          );
          run.usdMicros += turn.call.usdMicros;
        }
        if (turn.tool !== undefined) {
          const toolCallId = "call-1";
          emit(run.id, { kind: "tool_call_start", toolCallId, toolName: turn.tool.name }, turnId);
          emit(
            run.id,
            { kind: "tool_call_input_complete", toolCallId, input: turn.tool.input },
            turnId,
          );
          emit(run.id, { kind: "tool_call_executing", toolCallId }, turnId);
          emit(
            run.id,
            { kind: "tool_call_result", toolCallId, result: { humanSummary: turn.tool.summary } },
            turnId,
          );
        }
        run.tokensIn += usage.inputTokens;
        run.tokensOut += usage.outputTokens;
        emit(run.id, { kind: "turn_ended", ...who, reason: "complete", usage }, turnId);
      },
      emit: (body, turnId) => emit(run.id, body, turnId),
      writeArtifact: (name, contentType, body) =>
        void writeArtifact(run.id, name, contentType, body),
      sleep: (ms) =>
        new Promise<void>((resolve, reject) => {
          if (controller.signal.aborted) {
            reject(new EngineError("CANCELLED", "Run cancelled."));
            return;
          }
          const t = setTimeout(resolve, ms);
          controller.signal.addEventListener("abort", () => {
            clearTimeout(t);
            reject(new EngineError("CANCELLED", "Run cancelled."));
          });
        }),
      humanInput: (request) => askHuman(run, controller.signal, request),
    };
    setStatus(run.id, "pending");
    setTimeout(() => {
      if (controller.signal.aborted) {
        setStatus(run.id, "cancelled");
        return;
      }
      setStatus(run.id, "running");
      behavior(control).then(
        (value) => {
          if (controller.signal.aborted) {
            setStatus(run.id, "cancelled");
            return;
          }
          if (value !== undefined) control.output(value);
          setStatus(run.id, "completed");
        },
        (err: unknown) => {
          if (controller.signal.aborted) {
            setStatus(run.id, "cancelled");
            return;
          }
          const message = err instanceof Error ? err.message : String(err);
          setStatus(run.id, "failed", { error: { code: "PROGRAM_ERROR", message } });
        },
      );
    }, 0);
  };

  const writeArtifact = (
    runId: string,
    name: string,
    contentType: string,
    body: string | Buffer,
  ): ArtifactRow => {
    const dir = join(dataDir, "runs", runId, "artifacts");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, body);
    return addArtifactRow({
      runId,
      name,
      contentType,
      path,
      size: Buffer.byteLength(body),
      metadata: null,
    });
  };

  const addArtifactRow = (row: Omit<ArtifactRow, "id" | "createdAt">): ArtifactRow => {
    const full: ArtifactRow = { ...row, id: ulid(), createdAt: now() };
    artifacts.push(full);
    return full;
  };

  const deployWorkflow = ({
    program,
    config,
  }: {
    program: string;
    config?: Record<string, JsonValue>;
  }): WorkflowRow => {
    const match = /(?:export\s+)?(?:const|var|let)\s+meta\s*=\s*(\{[\s\S]*?\})\s*;/.exec(program);
    if (match?.[1] === undefined) {
      throw new EngineError("VALIDATION", "meta: the program must export a literal `meta` object.");
    }
    let manifest: FakeManifest;
    try {
      manifest = JSON.parse(match[1]) as FakeManifest;
    } catch {
      throw new EngineError(
        "VALIDATION",
        "meta: not a pure literal (the fake engine reads JSON literals only).",
      );
    }
    const row = addWorkflow(manifest, config ?? {}, program);
    return { ...row };
  };

  const startRun = (
    slug: string,
    {
      input,
      triggerKind,
      version: number,
    }: { input?: JsonValue; triggerKind: "manual" | "webhook"; version?: number },
  ): RunRow => {
    const wf = workflows.get(slug);
    if (wf === undefined) {
      throw new EngineError("NOT_FOUND", `Workflow "${slug}" is not deployed on this engine.`);
    }
    const list = versions.get(wf.id) ?? [];
    const version = number === undefined ? list.at(-1) : list[number - 1];
    if (version === undefined) {
      throw new EngineError("NOT_FOUND", `Workflow ${slug} has no version ${String(number)}.`);
    }
    const run: RunRow = {
      id: ulid(),
      workflowId: wf.id,
      status: "queued",
      triggerKind,
      input: input ?? null,
      output: null,
      error: null,
      parentRunId: null,
      idempotencyKey: null,
      restarts: 0,
      tokensIn: 0,
      tokensOut: 0,
      usdMicros: 0,
      createdAt: now(),
      startedAt: null,
      endedAt: null,
      activeMs: 0,
      retries: 0,
      retryAt: null,
      versionId: version.id,
      version: version.number,
    };
    runs.push(run);
    runById.set(run.id, run);
    emit(run.id, { kind: "run_status", status: "queued" });
    const created = { ...run };
    const behavior = behaviors[slug];
    if (behavior !== undefined) execute(run, behavior);
    return created;
  };

  /** workflow id + key → the run the key is bound to (for 24 hours), like the real store. */
  const requestKeys = new Map<string, { fingerprint: string; runId: string; at: number }>();
  /** workflow id + hook index + delivery key → the delivery remembered, like the real store. */
  const deliveries = new Map<
    string,
    { deliveryId: string | null; runId: string; at: number; expiresAt: number }
  >();
  const startRunOnce = (
    slug: string,
    options: StartRunOnceOptions,
  ): { run: RunRow; created: boolean } => {
    const wf = workflows.get(slug);
    const { requestKey, delivery } = options;
    if (wf !== undefined && delivery !== undefined) {
      for (const key of delivery.keys) {
        const held = deliveries.get(`${wf.id}\n${String(delivery.hookIndex)}\n${key}`);
        if (held !== undefined && held.expiresAt > now()) {
          const what =
            held.deliveryId === null
              ? "This webhook delivery"
              : `Webhook delivery "${held.deliveryId}"`;
          throw new EngineError(
            "CONFLICT",
            `${what} was already received at ${new Date(held.at).toISOString()} (run ${held.runId}).`,
            "Each delivery is accepted once. A new event needs a new delivery id and a fresh timestamp.",
          );
        }
      }
    }
    const bound =
      wf === undefined || requestKey === undefined
        ? undefined
        : requestKeys.get(`${wf.id}\n${requestKey.key}`);
    if (requestKey !== undefined && bound !== undefined && now() - bound.at < REQUEST_KEY_TTL_MS) {
      if (bound.fingerprint !== requestKey.fingerprint) {
        throw new EngineError(
          "CONFLICT",
          `Idempotency key "${requestKey.key}" was already used for a different request to this workflow (run ${bound.runId}).`,
        );
      }
      return { run: { ...requireRunRow(bound.runId) }, created: false };
    }
    const run = startRun(slug, options);
    if (requestKey !== undefined) {
      requestKeys.set(`${run.workflowId}\n${requestKey.key}`, {
        fingerprint: requestKey.fingerprint,
        runId: run.id,
        at: run.createdAt,
      });
    }
    if (delivery !== undefined) {
      for (const key of delivery.keys) {
        deliveries.set(`${run.workflowId}\n${String(delivery.hookIndex)}\n${key}`, {
          deliveryId: delivery.deliveryId,
          runId: run.id,
          at: run.createdAt,
          expiresAt: delivery.expiresAt,
        });
      }
    }
    return { run, created: true };
  };

  /** Applies the cancellation now; the returned promise settles when the run is terminal. */
  const cancel = (runId: string): Promise<void> | undefined => {
    const run = requireRunRow(runId);
    if (isTerminal(run.status)) return undefined;
    const controller = controllers.get(runId);
    if (run.status === "queued" && controller === undefined) {
      setStatus(runId, "cancelled");
      return undefined;
    }
    if (run.status !== "cancelling") setStatus(runId, "cancelling");
    if (controller === undefined) {
      setStatus(runId, "cancelled");
      return undefined;
    }
    controller.abort();
    return fake.waitForRun(runId).then(() => undefined);
  };

  const listRuns = (query: ListRunsQuery): RunRow[] => {
    let list = [...runs].reverse();
    list.sort((a, b) => b.createdAt - a.createdAt);
    if (query.workflowId !== undefined)
      list = list.filter((r) => r.workflowId === query.workflowId);
    if (query.parentRunId !== undefined)
      list = list.filter((r) => r.parentRunId === query.parentRunId);
    if (query.statuses !== undefined) {
      const set = new Set(query.statuses);
      list = list.filter((r) => set.has(r.status));
    }
    const { createdSince, createdBefore } = query;
    if (createdSince !== undefined) list = list.filter((r) => r.createdAt >= createdSince);
    if (createdBefore !== undefined) list = list.filter((r) => r.createdAt < createdBefore);
    if (query.beforeRunId !== undefined) {
      const i = list.findIndex((r) => r.id === query.beforeRunId);
      list = i === -1 ? [] : list.slice(i + 1);
    }
    const offset = query.offset ?? 0;
    return list.slice(offset, offset + query.limit).map((r) => ({ ...r }));
  };

  const listEvents = (
    runId: string,
    { afterCursor, limit }: { afterCursor: number; limit: number },
  ): EventRow[] => {
    const list = events.get(runId) ?? [];
    // Binary search for the first cursor > afterCursor.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid]?.cursor ?? 0) <= afterCursor) lo = mid + 1;
      else hi = mid;
    }
    return list.slice(lo, lo + limit);
  };

  const maxCursor = (runId: string): number => {
    const list = events.get(runId);
    return list === undefined || list.length === 0 ? 0 : (list[list.length - 1]?.cursor ?? 0);
  };

  const fake: FakeEngine = {
    dataDir,
    listWorkflows: () =>
      answer(() =>
        [...workflows.values()]
          .sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))
          .map((w) => ({ ...w })),
      ),
    getWorkflow: (slug) =>
      answer(() => {
        const row = workflows.get(slug);
        return row === undefined ? null : { ...row };
      }),
    getWorkflowById: (id) =>
      answer(() => {
        const row = [...workflows.values()].find((w) => w.id === id);
        return row === undefined ? null : { ...row };
      }),
    listWorkflowVersions: (workflowId) =>
      answer(() => [...(versions.get(workflowId) ?? [])].reverse()),
    deployWorkflow: (args) => answer(() => deployWorkflow(args)),
    startRun: (slug, startOptions) => answer(() => startRun(slug, startOptions)),
    startRunOnce: (slug, startOptions) => answer(() => startRunOnce(slug, startOptions)),
    // The cancellation applies now; the answer adopts the promise that settles at terminal.
    cancelRun: (runId) => answer(() => cancel(runId)).then(() => undefined),
    getRun: (runId) =>
      answer(() => {
        const run = runById.get(runId);
        return run === undefined ? null : { ...run };
      }),
    listRuns: (query) => answer(() => listRuns(query)),
    listEvents: (runId, query) => answer(() => listEvents(runId, query)),
    maxCursor: (runId) => answer(() => maxCursor(runId)),
    listArtifacts: (runId) =>
      answer(() => artifacts.filter((a) => a.runId === runId).map((a) => ({ ...a }))),
    artifactsDir: (runId) => join(dataDir, "runs", runId, "artifacts"),
    ping: () => answer(() => undefined),
    listInputRequests: (filter) =>
      answer(() =>
        requests
          .filter(
            (r) =>
              (filter.runId === undefined || r.runId === filter.runId) &&
              (filter.statuses === undefined || filter.statuses.includes(r.status)),
          )
          .reverse()
          .map((r) => ({ ...r })),
      ),
    respondToInput: (runId, key, value, respondOptions) =>
      answer(() => respondToInput(runId, key, value, respondOptions.respondedBy)),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    ...(options.nextCronFire === undefined ? {} : { nextCronFire: options.nextCronFire }),
    addWorkflow,
    emit,
    setStatus,
    writeArtifact,
    addArtifactRow,
    waitForRun: (runId) => {
      const run = requireRunRow(runId);
      if (isTerminal(run.status)) return Promise.resolve({ ...run });
      return new Promise((resolve) => {
        const list = waiters.get(runId) ?? [];
        list.push(resolve);
        waiters.set(runId, list);
      });
    },
    listenerCount: () => listeners.size,
    setHealthy: (value) => {
      healthy = value;
    },
    peekRun: (runId) => {
      const run = runById.get(runId);
      return run === undefined ? null : { ...run };
    },
    peekRuns: () => runs.map((run) => ({ ...run })),
    peekEvents: (runId) => [...(events.get(runId) ?? [])],
  };
  return fake;
}

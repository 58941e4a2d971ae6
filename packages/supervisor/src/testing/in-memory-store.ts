/**
 * An in-memory `SupervisorStore` for unit tests of the supervisor and its consumers, held to the
 * same contract as the real stores by `describeSupervisorStore`. By default it behaves like a
 * network database: every port method returns a promise and takes effect on a later macrotask
 * (with `jitterMs`, after a random delay, so concurrent calls may commit out of call order).
 * `synchronous: true` makes it behave like the SQLite store (plain values, effect at once).
 *
 * Like the real stores it is the one place events are published: after each operation that
 * wrote events, `subscribe` listeners receive them (with the run's workflow id and slug), per
 * run in increasing cursor order. `peek` reads committed state synchronously, for assertions.
 */
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import type { JsonValue, RunEvent } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import { isTerminal } from "@promenade/workflow/records";
import type { EventListener, PublishedEvent } from "@promenade/workflow/records";
import type {
  ArtifactRow,
  Awaitable,
  EventAppend,
  EventRow,
  HumanInputRequestRow,
  RunRow,
  RunStatus,
  StatusChange,
  SupervisorStore,
  WorkflowRow,
} from "../ports.ts";

/** Arguments of {@link InMemorySupervisorStore.addWorkflow}. */
export interface AddWorkflowArgs {
  slug: string;
  manifest: WorkflowRow["manifest"];
  program: string;
  config?: Record<string, JsonValue>;
}

/** Options of {@link createInMemorySupervisorStore}. */
export interface InMemorySupervisorStoreOptions {
  /** Stamps rows and store-stamped events. Default `Date.now`. */
  now?: () => number;
  /** Plain values and immediate effect, like the SQLite store. Default `false` (promises). */
  synchronous?: boolean;
  /** Asynchronous mode: each call takes effect after a random 0…`jitterMs` ms. Default 0. */
  jitterMs?: number;
}

/** Filter of {@link InMemoryPeek.runs}. */
export interface PeekRunsFilter {
  workflowId?: string;
  statuses?: readonly RunStatus[];
  parentRunId?: string;
  /** Default `"oldest"`. */
  order?: "oldest" | "newest";
}

/** Synchronous reads of committed state, for test assertions (not part of the port). */
export interface InMemoryPeek {
  run(id: string): RunRow | null;
  runs(filter?: PeekRunsFilter): RunRow[];
  workflow(slug: string): WorkflowRow | null;
  workflowById(id: string): WorkflowRow | null;
  /** Events with `cursor > afterCursor`, ascending. */
  events(runId: string, afterCursor?: number): EventRow[];
  /** Artifacts in creation order. */
  artifacts(runId: string): ArtifactRow[];
  /** Human-input requests (of one run, or all), in creation order. */
  inputRequests(runId?: string): HumanInputRequestRow[];
}

/** The fake store plus the seeding, publishing and inspection helpers tests need. */
export interface InMemorySupervisorStore extends SupervisorStore {
  /** Inserts or replaces a workflow by slug (`id`/`createdAt` kept on replace). Immediate. */
  addWorkflow(args: AddWorkflowArgs): WorkflowRow;
  /**
   * Overwrites fields of a run at once, writing no event (to stage an orphan left by a dead
   * engine, e.g. `{ status: "running", startedAt }`). Unknown run ⇒ `NOT_FOUND`.
   */
  patchRun(id: string, patch: Partial<Omit<RunRow, "id">>): RunRow;
  /** Receives every committed event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void;
  /** Committed state, read synchronously. */
  readonly peek: InMemoryPeek;
}

/** Creates an empty in-memory store. */
export function createInMemorySupervisorStore(
  options: InMemorySupervisorStoreOptions = {},
): InMemorySupervisorStore {
  const now = options.now ?? (() => Date.now());
  const synchronous = options.synchronous ?? false;
  const jitterMs = options.jitterMs ?? 0;
  const workflows = new Map<string, WorkflowRow>();
  const runs = new Map<string, RunRow>();
  const runOrder: string[] = [];
  const events = new Map<string, Map<number, RunEvent>>();
  const artifacts: ArtifactRow[] = [];
  const requests: HumanInputRequestRow[] = [];
  const listeners = new Set<EventListener>();
  let counter = 0;

  const newId = (): string => {
    counter += 1;
    return `${now().toString(36).toUpperCase().padStart(10, "0")}${counter.toString(36).toUpperCase().padStart(16, "0")}`;
  };
  const copy = <T>(value: T): T => structuredClone(value);
  const requireRun = (id: string): RunRow => {
    const run = runs.get(id);
    if (run === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return run;
  };
  const nonNegativeInt = (value: unknown, what: string): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new EngineError("VALIDATION", `${what} must be a non-negative integer.`);
    }
    return value;
  };
  const maxCursorOf = (runId: string): number => {
    let max = 0;
    for (const cursor of events.get(runId)?.keys() ?? []) if (cursor > max) max = cursor;
    return max;
  };
  /** Checks a batch against the run's events; throws before anything is written. */
  const checkBatch = (runId: string, rows: readonly EventAppend[]): void => {
    for (const row of rows) {
      if (!Number.isInteger(row.cursor) || row.cursor < 1) {
        throw new EngineError(
          "VALIDATION",
          `Event cursor must be an integer ≥ 1 (got ${row.cursor}).`,
        );
      }
    }
    const existing = events.get(runId);
    const seen = new Set<number>();
    for (const row of rows) {
      if (existing?.has(row.cursor) === true || seen.has(row.cursor)) {
        throw new EngineError(
          "CONFLICT",
          `Run ${runId} already has an event at cursor ${row.cursor}.`,
        );
      }
      seen.add(row.cursor);
    }
  };
  /** Writes a checked batch and returns it for publishing. */
  const writeBatch = (runId: string, rows: readonly EventAppend[]): EventRow[] => {
    const map = events.get(runId) ?? new Map<number, RunEvent>();
    events.set(runId, map);
    const written: EventRow[] = [];
    for (const row of rows) {
      map.set(row.cursor, copy(row.event));
      written.push({ runId, cursor: row.cursor, event: copy(row.event) });
    }
    return written;
  };
  const publish = (rows: readonly EventRow[]): void => {
    if (rows.length === 0 || listeners.size === 0) return;
    for (const row of [...rows].sort((a, b) => a.cursor - b.cursor)) {
      const run = runs.get(row.runId);
      const workflow = run === undefined ? undefined : workflows.get(run.workflowId);
      const published: PublishedEvent = {
        ...row,
        workflowId: run?.workflowId ?? "",
        workflowSlug: workflow?.slug ?? "",
      };
      for (const listener of listeners) {
        try {
          listener(published);
        } catch {
          // A listener's bug never affects the write (the real stores log it).
        }
      }
    }
  };
  /** Applies one operation now (synchronous mode) or on a later macrotask. */
  const apply = <T>(operation: () => T): Awaitable<T> => {
    if (synchronous) return operation();
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        try {
          resolve(operation());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      if (jitterMs > 0) setTimeout(run, Math.floor(Math.random() * (jitterMs + 1)));
      else setImmediate(run);
    });
  };
  const sortedRuns = (filter: PeekRunsFilter): RunRow[] => {
    if (filter.statuses !== undefined && filter.statuses.length === 0) return [];
    const rows = runOrder
      .map((id) => runs.get(id))
      .filter(
        (r): r is RunRow =>
          r !== undefined &&
          (filter.workflowId === undefined || r.workflowId === filter.workflowId) &&
          (filter.statuses === undefined || filter.statuses.includes(r.status)) &&
          (filter.parentRunId === undefined || r.parentRunId === filter.parentRunId),
      );
    if ((filter.order ?? "oldest") === "newest") rows.reverse();
    return rows.map(copy);
  };

  const peek: InMemoryPeek = {
    run: (id) => {
      const row = runs.get(id);
      return row === undefined ? null : copy(row);
    },
    runs: (filter = {}) => sortedRuns(filter),
    workflow: (slug) => {
      const row = [...workflows.values()].find((w) => w.slug === slug);
      return row === undefined ? null : copy(row);
    },
    workflowById: (id) => {
      const row = workflows.get(id);
      return row === undefined ? null : copy(row);
    },
    events: (runId, afterCursor = 0) =>
      [...(events.get(runId) ?? new Map<number, RunEvent>()).entries()]
        .filter(([cursor]) => cursor > afterCursor)
        .sort((a, b) => a[0] - b[0])
        .map(([cursor, event]) => ({ runId, cursor, event: copy(event) })),
    artifacts: (runId) => artifacts.filter((a) => a.runId === runId).map(copy),
    inputRequests: (runId) =>
      requests.filter((r) => runId === undefined || r.runId === runId).map(copy),
  };
  const findRequest = (runId: string, key: string): HumanInputRequestRow | undefined =>
    requests.find((r) => r.runId === runId && r.key === key);
  /** The stamp of a store-stamped event: seq 1 of a fresh block after the highest cursor. */
  const freshStamp = (runId: string, pending: readonly EventAppend[]) => {
    let max = maxCursorOf(runId);
    for (const row of pending) max = Math.max(max, row.cursor);
    return { cursor: (Math.floor(max / TURN_CURSOR_STRIDE) + 1) * TURN_CURSOR_STRIDE + 1, seq: 1 };
  };

  const store: InMemorySupervisorStore = {
    peek,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    addWorkflow(args) {
      const existing = [...workflows.values()].find((w) => w.slug === args.slug);
      const at = now();
      const row: WorkflowRow = {
        id: existing?.id ?? newId(),
        slug: args.slug,
        name: args.slug,
        title: (args.manifest as { title?: string }).title ?? null,
        manifest: copy(args.manifest),
        program: args.program,
        config: copy(args.config ?? {}),
        createdAt: existing?.createdAt ?? at,
        updatedAt: at,
        undeployedAt: null,
      };
      workflows.set(row.id, row);
      return copy(row);
    },
    patchRun(id, patch) {
      const next = { ...requireRun(id), ...copy(patch), id };
      runs.set(id, next);
      return copy(next);
    },
    getWorkflow: (slug) => apply(() => peek.workflow(slug)),
    getWorkflowById: (id) => apply(() => peek.workflowById(id)),
    // Runs here record no version, so no pass asks for one.
    getWorkflowVersion: () => apply(() => null),
    getRun: (id) => apply(() => peek.run(id)),
    listRuns: (filter) => apply(() => sortedRuns(filter)),
    maxCursor: (runId) => apply(() => maxCursorOf(runId)),
    createRun: (args) =>
      apply(() => {
        if (!workflows.has(args.workflowId)) {
          throw new EngineError("NOT_FOUND", `Unknown workflow: ${args.workflowId}`);
        }
        if (args.parentRunId !== undefined && !runs.has(args.parentRunId)) {
          throw new EngineError("NOT_FOUND", `Unknown parent run: ${args.parentRunId}`);
        }
        if (args.idempotencyKey !== undefined) {
          const parent = args.parentRunId ?? null;
          const found = [...runs.values()].find(
            (r) => r.parentRunId === parent && r.idempotencyKey === args.idempotencyKey,
          );
          if (found !== undefined) {
            if (found.workflowId !== args.workflowId) {
              throw new EngineError(
                "CONFLICT",
                `Idempotency key "${args.idempotencyKey}" is already used by run ${found.id} of another workflow.`,
              );
            }
            return { run: copy(found), created: false };
          }
        }
        const at = now();
        const run: RunRow = {
          id: newId(),
          workflowId: args.workflowId,
          status: "queued",
          triggerKind: args.triggerKind,
          input: args.input === undefined ? null : copy(args.input),
          output: null,
          error: null,
          parentRunId: args.parentRunId ?? null,
          idempotencyKey: args.idempotencyKey ?? null,
          restarts: 0,
          tokensIn: 0,
          tokensOut: 0,
          usdMicros: 0,
          createdAt: at,
          startedAt: null,
          endedAt: null,
          activeMs: 0,
          retries: 0,
          retryAt: null,
          versionId: null,
          version: null,
        };
        runOrder.push(run.id);
        runs.set(run.id, run);
        const queued: RunEvent = {
          kind: "run_status",
          status: "queued",
          runId: run.id,
          turnId: run.id,
          seq: 1,
          t: at,
        };
        publish(writeBatch(run.id, [{ cursor: 1, event: queued }]));
        return { run: copy(run), created: true };
      }),
    commitStatus: (runId, change: StatusChange) =>
      apply(() => {
        const run = requireRun(runId);
        const pending = change.pending ?? [];
        checkBatch(runId, pending);
        const applies = change.expect.includes(run.status);
        let statusRow: EventAppend | null = null;
        if (applies) {
          let cursor: number;
          let seq: number;
          if (change.stamp === undefined) {
            let max = maxCursorOf(runId);
            for (const row of pending) max = Math.max(max, row.cursor);
            cursor = (Math.floor(max / TURN_CURSOR_STRIDE) + 1) * TURN_CURSOR_STRIDE + 1;
            seq = 1;
          } else {
            cursor = change.stamp.cursor;
            seq = change.stamp.seq;
          }
          const event = {
            kind: "run_status",
            status: change.to,
            ...(change.error === undefined
              ? change.eventError === undefined
                ? {}
                : { error: { code: change.eventError.code, message: change.eventError.message } }
              : { error: { code: change.error.code, message: change.error.message } }),
            ...(change.reason === undefined ? {} : { reason: change.reason }),
            runId,
            turnId: runId,
            seq,
            t: now(),
          } as RunEvent;
          statusRow = { cursor, event };
          checkBatch(runId, [...pending, statusRow]);
        }
        const written = writeBatch(runId, pending);
        if (!applies || statusRow === null) {
          publish(written);
          return null;
        }
        const next: RunRow = { ...run, status: change.to };
        if (change.output !== undefined) next.output = copy(change.output);
        if (change.error !== undefined) next.error = copy(change.error);
        if (change.startedAt !== undefined && run.startedAt === null) {
          next.startedAt = change.startedAt;
        }
        if (change.endedAt !== undefined) next.endedAt = change.endedAt;
        runs.set(runId, next);
        written.push(...writeBatch(runId, [statusRow]));
        if (isTerminal(change.to)) {
          const at = now();
          for (const request of requests) {
            if (request.runId === runId && request.status === "pending") {
              request.status = "cancelled";
              request.respondedAt = at;
            }
          }
        }
        publish(written);
        return copy(next);
      }),
    appendEvents: (runId, rows) =>
      apply(() => {
        if (rows.length === 0) return;
        checkBatch(runId, rows);
        requireRun(runId);
        publish(writeBatch(runId, rows));
      }),
    incrementRestarts: (id) =>
      apply(() => {
        const run = requireRun(id);
        runs.set(id, { ...run, restarts: run.restarts + 1 });
        return run.restarts + 1;
      }),
    addActiveMs: (id, ms) =>
      apply(() => {
        const run = requireRun(id);
        const activeMs = run.activeMs + nonNegativeInt(ms, "ms");
        runs.set(id, { ...run, activeMs });
        return activeMs;
      }),
    scheduleRetry: (id, at) =>
      apply(() => {
        const run = requireRun(id);
        const retries = run.retries + 1;
        runs.set(id, { ...run, retries, retryAt: nonNegativeInt(at, "at") });
        return retries;
      }),
    clearRetry: (id) =>
      apply(() => {
        const run = requireRun(id);
        runs.set(id, { ...run, retryAt: null });
      }),
    addRunUsage: (id, usage) =>
      apply(() => {
        const tokensIn = nonNegativeInt(usage.tokensIn ?? 0, "tokensIn");
        const tokensOut = nonNegativeInt(usage.tokensOut ?? 0, "tokensOut");
        const usdMicros = nonNegativeInt(usage.usdMicros ?? 0, "usdMicros");
        const run = requireRun(id);
        const next = {
          ...run,
          tokensIn: run.tokensIn + tokensIn,
          tokensOut: run.tokensOut + tokensOut,
          usdMicros: run.usdMicros + usdMicros,
        };
        runs.set(id, next);
        return { tokensIn: next.tokensIn, tokensOut: next.tokensOut, usdMicros: next.usdMicros };
      }),
    getInputRequest: (runId, key) =>
      apply(() => {
        const found = findRequest(runId, key);
        return found === undefined ? null : copy(found);
      }),
    createInputRequest: (runId, args) =>
      apply(() => {
        const pending = args.pending ?? [];
        checkBatch(runId, pending);
        requireRun(runId);
        const found = findRequest(runId, args.key);
        if (found !== undefined) {
          publish(writeBatch(runId, pending));
          return { request: copy(found), created: false };
        }
        const at = now();
        const request: HumanInputRequestRow = {
          id: newId(),
          runId,
          seq: requests.filter((r) => r.runId === runId).length + 1,
          key: args.key,
          prompt: args.prompt,
          inputSpec: copy(args.inputSpec),
          assignees: args.assignees == null ? null : [...args.assignees],
          status: "pending",
          response: null,
          respondedBy: null,
          createdAt: at,
          expiresAt: args.timeoutMs == null ? null : at + args.timeoutMs,
          respondedAt: null,
        };
        const stamp = args.stamp ?? freshStamp(runId, pending);
        const event: RunEvent = {
          kind: "human_input_requested",
          requestId: request.id,
          key: request.key,
          prompt: request.prompt,
          runId,
          turnId: runId,
          seq: stamp.seq,
          t: at,
        };
        const rows = [...pending, { cursor: stamp.cursor, event }];
        checkBatch(runId, rows);
        requests.push(request);
        publish(writeBatch(runId, rows));
        return { request: copy(request), created: true };
      }),
    settleInputRequest: (runId, key, settlement) =>
      apply(() => {
        const pending = settlement.pending ?? [];
        checkBatch(runId, pending);
        requireRun(runId);
        const request = findRequest(runId, key);
        if (request?.status !== "pending") {
          publish(writeBatch(runId, pending));
          return null;
        }
        const at = now();
        const stamp = settlement.stamp ?? freshStamp(runId, pending);
        const event: RunEvent = {
          kind: "human_input_resolved",
          requestId: request.id,
          key,
          runId,
          turnId: runId,
          seq: stamp.seq,
          t: at,
        };
        const rows = [...pending, { cursor: stamp.cursor, event }];
        checkBatch(runId, rows);
        request.status = settlement.status;
        request.response = settlement.response === undefined ? null : copy(settlement.response);
        request.respondedBy = settlement.respondedBy ?? null;
        request.respondedAt = at;
        publish(writeBatch(runId, rows));
        return copy(request);
      }),
    createArtifact: (args) =>
      apply(() => {
        nonNegativeInt(args.size, "size");
        requireRun(args.runId);
        const row: ArtifactRow = {
          id: newId(),
          runId: args.runId,
          name: args.name,
          contentType: args.contentType,
          path: args.path,
          size: args.size,
          metadata: args.metadata === undefined ? null : copy(args.metadata),
          createdAt: now(),
        };
        artifacts.push(row);
        return copy(row);
      }),
  };
  return store;
}

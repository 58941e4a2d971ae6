/**
 * `InMemorySchedulerStore`: a fake of the scheduler's store port, plus the writes a test needs to
 * deploy workflows, queue runs and move them like a supervisor would (`upsertWorkflow`,
 * `createRun`, `commitStatus`), the events it wrote (`listEvents`) and `close`. It follows the
 * real stores' semantics closely enough that the contract suite passes against it: `fireCron`
 * writes its fire record, run and `queued` event together or answers `null`, runs are ordered by
 * `(createdAt, insertion)`.
 * By default it is asynchronous like a network database: every call takes effect when it is made
 * (in call order) and its answer arrives later, on another turn of the event loop, so other work
 * interleaves with every store round trip. `{ sync: true }` answers with plain values, like the
 * SQLite store. Knows nothing about SQL or the scheduler.
 */
import type { JsonValue, WorkflowManifest } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import {
  isTerminal,
  type Awaitable,
  type EventRow,
  type ListRunsFilter,
  type RunRow,
  type RunStatus,
  type WorkflowRow,
} from "@promenade/workflow/records";
import type { CronFire } from "../ports.ts";
import type {
  QueueRunArgs,
  SchedulerStoreUnderTest,
  StatusMove,
  DeployWorkflowArgs,
} from "./contract.ts";

/** Options of {@link InMemorySchedulerStore}. */
export interface InMemorySchedulerStoreOptions {
  /** Stamps `createdAt`/`updatedAt` and event times (epoch ms); default `Date.now`. */
  now?: () => number;
  /** Answer with plain values (like the SQLite store) instead of promises. Default `false`. */
  sync?: boolean;
  /**
   * Asynchronous mode: how long each answer takes, in ms. Default `0`: the answer arrives on the
   * next turn of the event loop (after pending I/O and timers), not merely after a microtask.
   */
  latencyMs?: number;
}

/** One recorded cron fire (what the `cron_fires` table holds). */
export interface CronFireRecord {
  workflowId: string;
  triggerIndex: number;
  fireTime: number;
  runId: string;
  createdAt: number;
}

interface StoredRun {
  row: RunRow;
  /** Insertion order: the tiebreak of equal `createdAt`s in the real stores. */
  seq: number;
}

/** Cursor stride of a run's event log: block `n` holds cursors `n * 1_000_000 + seq`. */
const TURN_CURSOR_STRIDE = 1_000_000;

/**
 * In-memory `SchedulerStore` for tests and benchmarks. `listWorkflows()` answers with the same
 * (frozen) array until a workflow changes, so the scheduler's change check costs O(1).
 */
export class InMemorySchedulerStore implements SchedulerStoreUnderTest {
  readonly #now: () => number;
  readonly #sync: boolean;
  readonly #latencyMs: number;
  readonly #workflows = new Map<string, WorkflowRow>();
  readonly #workflowIdBySlug = new Map<string, string>();
  #workflowList: readonly WorkflowRow[] | null = null;
  readonly #runs = new Map<string, StoredRun>();
  readonly #runsByStatus = new Map<RunStatus, Set<string>>();
  readonly #runsByWorkflow = new Map<string, Set<string>>();
  readonly #idempotency = new Map<string, string>();
  readonly #events = new Map<string, EventRow[]>();
  readonly #fires = new Map<string, CronFireRecord>();
  readonly #lastFire = new Map<string, number>();
  #seq = 0;
  #ids = 0;
  #closed = false;

  constructor(options: InMemorySchedulerStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#sync = options.sync ?? false;
    this.#latencyMs = options.latencyMs ?? 0;
  }

  /** Whether answers are plain values (`{ sync: true }`). */
  get sync(): boolean {
    return this.#sync;
  }

  /** Marks the store closed (idempotent); every later call fails with `INTERNAL`. */
  close(): Awaitable<void> {
    this.#closed = true;
    if (this.#sync) return;
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Insert or redeploy by slug (`id`/`createdAt` kept, `updatedAt` = now). */
  upsertWorkflow(args: DeployWorkflowArgs): Awaitable<WorkflowRow> {
    return this.#answer(() => {
      const now = this.#now();
      const existingId = this.#workflowIdBySlug.get(args.slug);
      const existing = existingId === undefined ? undefined : this.#workflows.get(existingId);
      const manifest: WorkflowManifest = structuredClone(args.manifest);
      const row: WorkflowRow = {
        id: existing?.id ?? this.#nextId("wf"),
        slug: args.slug,
        name: args.slug,
        title: typeof manifest.title === "string" ? manifest.title : null,
        manifest,
        program: args.program,
        config: structuredClone(args.config ?? {}),
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        undeployedAt: null,
      };
      this.#workflows.set(row.id, row);
      this.#workflowIdBySlug.set(row.slug, row.id);
      this.#workflowList = null;
      return structuredClone(row);
    });
  }

  /** Every workflow by slug ascending (the same array until a workflow changes; do not mutate). */
  listWorkflows(): Awaitable<readonly WorkflowRow[]> {
    return this.#answer(() => {
      if (this.#workflowList === null) {
        this.#workflowList = Object.freeze(
          [...this.#workflows.values()].sort((a, b) =>
            a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0,
          ),
        );
      }
      return this.#workflowList;
    });
  }

  /** The workflow with this id, or `null`. */
  getWorkflowById(id: string): Awaitable<WorkflowRow | null> {
    return this.#answer(() => this.#workflows.get(id) ?? null);
  }

  /**
   * Insert a `queued` run and its `queued` event, or find the run with the same
   * `(parentRunId, idempotencyKey)` (writing nothing).
   */
  createRun(args: QueueRunArgs): Awaitable<{ run: RunRow; created: boolean }> {
    return this.#answer(() => {
      this.#requireWorkflow(args.workflowId);
      if (args.parentRunId !== undefined && !this.#runs.has(args.parentRunId)) {
        throw new EngineError("NOT_FOUND", `Unknown parent run: ${args.parentRunId}`);
      }
      const idemKey =
        args.idempotencyKey === undefined
          ? undefined
          : `${args.parentRunId ?? ""}\u0000${args.idempotencyKey}`;
      if (idemKey !== undefined) {
        const foundId = this.#idempotency.get(idemKey);
        const found = foundId === undefined ? undefined : this.#runs.get(foundId);
        if (found !== undefined) {
          if (found.row.workflowId !== args.workflowId) {
            throw new EngineError(
              "CONFLICT",
              `Idempotency key "${args.idempotencyKey}" is already used by a run of another workflow.`,
            );
          }
          return { run: { ...found.row }, created: false };
        }
      }
      const run = this.#insertRun({
        workflowId: args.workflowId,
        triggerKind: args.triggerKind,
        input: args.input ?? null,
        parentRunId: args.parentRunId ?? null,
        idempotencyKey: args.idempotencyKey ?? null,
      });
      if (idemKey !== undefined) this.#idempotency.set(idemKey, run.id);
      return { run, created: true };
    });
  }

  /** Record the fire, its `cron` run and the run's `queued` event; `null` for a known instant. */
  fireCron(fire: CronFire): Awaitable<RunRow | null> {
    return this.#answer(() => {
      this.#requireWorkflow(fire.workflowId);
      const key = `${fire.workflowId}#${fire.triggerIndex}#${fire.fireTime}`;
      if (this.#fires.has(key)) return null;
      const run = this.#insertRun({
        workflowId: fire.workflowId,
        triggerKind: "cron",
        input: fire.input ?? null,
        parentRunId: null,
        idempotencyKey: null,
      });
      this.#fires.set(key, { ...fire, runId: run.id, createdAt: this.#now() });
      const pair = `${fire.workflowId}#${fire.triggerIndex}`;
      this.#lastFire.set(pair, Math.max(this.#lastFire.get(pair) ?? -Infinity, fire.fireTime));
      return run;
    });
  }

  /**
   * Move a run to `change.to` when its status is one of `change.expect`, appending its
   * `run_status` event; `null` when the status did not apply. Unknown run ⇒ `NOT_FOUND`.
   */
  commitStatus(runId: string, change: StatusMove): Awaitable<RunRow | null> {
    return this.#answer(() => {
      const stored = this.#runs.get(runId);
      if (stored === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
      if (!change.expect.includes(stored.row.status)) return null;
      const before = stored.row;
      const now = this.#now();
      const after: RunRow = { ...before, status: change.to };
      if (change.to === "running" && before.startedAt === null) after.startedAt = now;
      if (isTerminal(change.to)) after.endedAt = now;
      stored.row = after;
      this.#runsByStatus.get(before.status)?.delete(runId);
      this.#index(this.#runsByStatus, after.status).add(runId);
      const log = this.#events.get(runId) ?? [];
      const last = log.at(-1)?.cursor ?? 0;
      const cursor = (Math.floor(last / TURN_CURSOR_STRIDE) + 1) * TURN_CURSOR_STRIDE + 1;
      log.push(this.#statusEvent(runId, cursor, change.to, now));
      this.#events.set(runId, log);
      return { ...after };
    });
  }

  /** Runs matching `filter`, newest first by default. */
  listRuns(filter: ListRunsFilter = {}): Awaitable<RunRow[]> {
    return this.#answer(() => this.#listRuns(filter));
  }

  /** The run's events, cursor ascending. */
  listEvents(runId: string): Awaitable<EventRow[]> {
    return this.#answer(() => (this.#events.get(runId) ?? []).map((row) => ({ ...row })));
  }

  /** `MAX(fireTime)` of the trigger, or `null`. */
  lastCronFire(workflowId: string, triggerIndex: number): Awaitable<number | null> {
    return this.#answer(() => this.#lastFire.get(`${workflowId}#${triggerIndex}`) ?? null);
  }

  /** Every recorded fire, in recording order (test inspection; synchronous in both modes). */
  listCronFires(): CronFireRecord[] {
    return [...this.#fires.values()].map((record) => ({ ...record }));
  }

  /** Every run, oldest first (test inspection; synchronous in both modes). */
  runs(): RunRow[] {
    return this.#listRuns({ order: "oldest" });
  }

  /**
   * `compute()` now, answered as this store answers: the value itself in sync mode, a promise
   * settled on a later turn otherwise (a throw becomes its rejection).
   */
  #answer<T>(compute: () => T): Awaitable<T> {
    if (this.#sync) {
      this.#open();
      return compute();
    }
    let outcome: { value: T } | { error: Error };
    try {
      this.#open();
      outcome = { value: compute() };
    } catch (error) {
      outcome = { error: error instanceof Error ? error : new Error(String(error)) };
    }
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        if ("value" in outcome) resolve(outcome.value);
        else reject(outcome.error);
      };
      if (this.#latencyMs > 0) setTimeout(settle, this.#latencyMs);
      else setImmediate(settle);
    });
  }

  #listRuns(filter: ListRunsFilter): RunRow[] {
    const { statuses, workflowId, parentRunId } = filter;
    if (statuses !== undefined && statuses.length === 0) return [];
    if (filter.beforeRunId !== undefined && filter.offset !== undefined) {
      throw new EngineError("VALIDATION", "listRuns: beforeRunId cannot be combined with offset");
    }
    let ids: Iterable<string>;
    if (statuses !== undefined) {
      const union: string[] = [];
      for (const status of new Set(statuses)) union.push(...(this.#runsByStatus.get(status) ?? []));
      ids = union;
    } else if (workflowId !== undefined) {
      ids = this.#runsByWorkflow.get(workflowId) ?? [];
    } else {
      ids = this.#runs.keys();
    }
    const picked: StoredRun[] = [];
    for (const id of ids) {
      const stored = this.#runs.get(id);
      if (stored === undefined) continue;
      if (workflowId !== undefined && stored.row.workflowId !== workflowId) continue;
      if (parentRunId !== undefined && stored.row.parentRunId !== parentRunId) continue;
      picked.push(stored);
    }
    const sign = filter.order === "oldest" ? 1 : -1;
    picked.sort((a, b) => sign * (a.row.createdAt - b.row.createdAt || a.seq - b.seq));
    let start = filter.offset ?? 0;
    if (filter.beforeRunId !== undefined) {
      const anchor = this.#runs.get(filter.beforeRunId);
      if (anchor === undefined) {
        throw new EngineError("NOT_FOUND", `Unknown run: ${filter.beforeRunId}`);
      }
      const after = (s: StoredRun): boolean =>
        sign * (s.row.createdAt - anchor.row.createdAt || s.seq - anchor.seq) > 0;
      start = picked.findIndex(after);
      if (start === -1) return [];
    }
    const end = filter.limit === undefined ? undefined : start + filter.limit;
    return picked.slice(start, end).map((stored) => ({ ...stored.row }));
  }

  #insertRun(fields: {
    workflowId: string;
    triggerKind: RunRow["triggerKind"];
    input: JsonValue | null;
    parentRunId: string | null;
    idempotencyKey: string | null;
  }): RunRow {
    const now = this.#now();
    const row: RunRow = {
      id: this.#nextId("run"),
      workflowId: fields.workflowId,
      status: "queued",
      triggerKind: fields.triggerKind,
      input: fields.input === null ? null : structuredClone(fields.input),
      output: null,
      error: null,
      parentRunId: fields.parentRunId,
      idempotencyKey: fields.idempotencyKey,
      restarts: 0,
      tokensIn: 0,
      tokensOut: 0,
      usdMicros: 0,
      createdAt: now,
      startedAt: null,
      endedAt: null,
      activeMs: 0,
      retries: 0,
      retryAt: null,
      versionId: null,
      version: null,
    };
    this.#runs.set(row.id, { row, seq: ++this.#seq });
    this.#index(this.#runsByStatus, row.status).add(row.id);
    this.#index(this.#runsByWorkflow, row.workflowId).add(row.id);
    this.#events.set(row.id, [this.#statusEvent(row.id, 1, "queued", now)]);
    return { ...row };
  }

  #statusEvent(runId: string, cursor: number, status: RunStatus, t: number): EventRow {
    return {
      runId,
      cursor,
      event: {
        kind: "run_status",
        status,
        runId,
        turnId: runId,
        seq: cursor % TURN_CURSOR_STRIDE,
        t,
      },
    };
  }

  #requireWorkflow(id: string): void {
    if (!this.#workflows.has(id)) throw new EngineError("NOT_FOUND", `Unknown workflow: ${id}`);
  }

  #open(): void {
    if (this.#closed) throw new EngineError("INTERNAL", "This store has been closed.");
  }

  #nextId(prefix: string): string {
    this.#ids += 1;
    return `${prefix}-${String(this.#ids).padStart(8, "0")}`;
  }

  #index<K>(map: Map<K, Set<string>>, key: K): Set<string> {
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
    }
    return set;
  }
}

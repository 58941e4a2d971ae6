/**
 * `InMemorySchedulerStore`: a fake of the scheduler's store port (plus `upsertWorkflow`,
 * `updateRunStatus` and `close`, so tests can deploy workflows and move runs like a supervisor
 * would). It follows the SQLite store's semantics (spec 02 §4.7) closely enough that the contract
 * suite passes against both: transactions roll back every write, a duplicate fire is `CONFLICT`,
 * runs are ordered by `(createdAt, insertion)`. Knows nothing about SQL or the scheduler.
 */
import type {
  CreateRunArgs,
  CronFireArgs,
  ListRunsFilter,
  RunRow,
  UpdateRunStatusOptions,
  UpsertWorkflowArgs,
  WorkflowRow,
} from "@promenade/store";
import type { RunStatus } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import type { SchedulerStoreUnderTest } from "./contract.ts";

/** Options of {@link InMemorySchedulerStore}. */
export interface InMemorySchedulerStoreOptions {
  /** Stamps `createdAt`/`updatedAt` (epoch ms); default `Date.now`. */
  now?: () => number;
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
  /** Insertion order: the `rowid` tiebreak of the real store. */
  seq: number;
}

/**
 * In-memory `SchedulerStore` for tests and benchmarks. `listWorkflows()` returns the same
 * (frozen) array until a workflow changes, so the scheduler's change check costs O(1).
 */
export class InMemorySchedulerStore implements SchedulerStoreUnderTest {
  readonly #now: () => number;
  readonly #workflows = new Map<string, WorkflowRow>();
  readonly #workflowIdBySlug = new Map<string, string>();
  #workflowList: WorkflowRow[] | null = null;
  readonly #runs = new Map<string, StoredRun>();
  readonly #runsByStatus = new Map<RunStatus, Set<string>>();
  readonly #runsByWorkflow = new Map<string, Set<string>>();
  readonly #idempotency = new Map<string, string>();
  readonly #fires = new Map<string, CronFireRecord>();
  readonly #lastFire = new Map<string, number>();
  #seq = 0;
  #ids = 0;
  /** Undo log of the open transaction, or `null` outside one. */
  #undo: (() => void)[] | null = null;
  #closed = false;

  constructor(options: InMemorySchedulerStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** `fn` inside one transaction: nested calls join it; a throw rolls every write back. */
  transaction<T>(fn: () => T): T {
    this.#open();
    if (this.#undo !== null) return fn();
    const undo: (() => void)[] = [];
    this.#undo = undo;
    try {
      const result = fn();
      if (result instanceof Promise) {
        throw new EngineError("VALIDATION", "transaction(fn): fn must be synchronous");
      }
      return result;
    } catch (error) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]?.();
      throw error;
    } finally {
      this.#undo = null;
    }
  }

  /** Marks the store closed; every later call throws `INTERNAL`. */
  close(): void {
    this.#closed = true;
  }

  /** Insert or redeploy by slug (`id`/`createdAt` kept, `updatedAt` = now). */
  upsertWorkflow(args: UpsertWorkflowArgs): WorkflowRow {
    this.#open();
    const now = this.#now();
    const existingId = this.#workflowIdBySlug.get(args.slug);
    const existing = existingId === undefined ? undefined : this.#workflows.get(existingId);
    const row: WorkflowRow = {
      id: existing?.id ?? this.#nextId("wf"),
      slug: args.slug,
      name: args.slug,
      title: typeof args.manifest.title === "string" ? args.manifest.title : null,
      manifest: structuredClone(args.manifest),
      program: args.program,
      config: structuredClone(args.config ?? {}),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    this.#write(
      () => {
        this.#workflows.set(row.id, row);
        this.#workflowIdBySlug.set(row.slug, row.id);
        this.#workflowList = null;
      },
      () => {
        if (existing === undefined) {
          this.#workflows.delete(row.id);
          this.#workflowIdBySlug.delete(row.slug);
        } else {
          this.#workflows.set(existing.id, existing);
        }
        this.#workflowList = null;
      },
    );
    return structuredClone(row);
  }

  /** Every workflow by slug ascending (the same array until a workflow changes; do not mutate). */
  listWorkflows(): WorkflowRow[] {
    this.#open();
    if (this.#workflowList === null) {
      this.#workflowList = [...this.#workflows.values()].sort((a, b) =>
        a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0,
      );
      Object.freeze(this.#workflowList);
    }
    return this.#workflowList;
  }

  /** The workflow with this id, or `null`. */
  getWorkflowById(id: string): WorkflowRow | null {
    this.#open();
    return this.#workflows.get(id) ?? null;
  }

  /** Insert a `queued` run, or find it by `(parentRunId, idempotencyKey)` (spec 02 §4.7). */
  createRun(args: CreateRunArgs): { run: RunRow; created: boolean } {
    this.#open();
    if (!this.#workflows.has(args.workflowId)) {
      throw new EngineError("NOT_FOUND", `Unknown workflow: ${args.workflowId}`);
    }
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
    const row: RunRow = {
      id: this.#nextId("run"),
      workflowId: args.workflowId,
      status: "queued",
      triggerKind: args.triggerKind,
      input: args.input === undefined ? null : structuredClone(args.input),
      output: null,
      error: null,
      parentRunId: args.parentRunId ?? null,
      idempotencyKey: args.idempotencyKey ?? null,
      restarts: 0,
      tokensIn: 0,
      tokensOut: 0,
      usdMicros: 0,
      createdAt: this.#now(),
      startedAt: null,
      endedAt: null,
    };
    const stored: StoredRun = { row, seq: ++this.#seq };
    this.#write(
      () => {
        this.#runs.set(row.id, stored);
        this.#index(this.#runsByStatus, row.status).add(row.id);
        this.#index(this.#runsByWorkflow, row.workflowId).add(row.id);
        if (idemKey !== undefined) this.#idempotency.set(idemKey, row.id);
      },
      () => {
        this.#runs.delete(row.id);
        this.#runsByStatus.get(stored.row.status)?.delete(row.id);
        this.#runsByWorkflow.get(row.workflowId)?.delete(row.id);
        if (idemKey !== undefined) this.#idempotency.delete(idemKey);
      },
    );
    return { run: { ...row }, created: true };
  }

  /** Set a run's status (and given fields); with `expect`, only from those statuses. */
  updateRunStatus(id: string, status: RunStatus, options: UpdateRunStatusOptions = {}): boolean {
    this.#open();
    const stored = this.#runs.get(id);
    if (stored === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    if (options.expect !== undefined && !options.expect.includes(stored.row.status)) return false;
    const before = stored.row;
    const after: RunRow = { ...before, status };
    if (options.output !== undefined) after.output = options.output;
    if (options.error !== undefined) after.error = options.error;
    if (options.startedAt !== undefined && before.startedAt === null) {
      after.startedAt = options.startedAt;
    }
    if (options.endedAt !== undefined) after.endedAt = options.endedAt;
    const swap = (from: RunRow, to: RunRow): void => {
      stored.row = to;
      this.#runsByStatus.get(from.status)?.delete(id);
      this.#index(this.#runsByStatus, to.status).add(id);
    };
    this.#write(
      () => swap(before, after),
      () => swap(after, before),
    );
    return true;
  }

  /** Runs matching `filter`, newest first by default (spec 02 §4.7 `listRuns`). */
  listRuns(filter: ListRunsFilter = {}): RunRow[] {
    this.#open();
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

  /** Record a fire. Duplicate `(workflow, trigger, fireTime)` ⇒ `CONFLICT`; unknown ⇒ `NOT_FOUND`. */
  recordCronFire(args: CronFireArgs): void {
    this.#open();
    if (!this.#workflows.has(args.workflowId)) {
      throw new EngineError("NOT_FOUND", `Unknown workflow: ${args.workflowId}`);
    }
    if (!this.#runs.has(args.runId))
      throw new EngineError("NOT_FOUND", `Unknown run: ${args.runId}`);
    const key = `${args.workflowId}#${args.triggerIndex}#${args.fireTime}`;
    if (this.#fires.has(key)) {
      throw new EngineError(
        "CONFLICT",
        `Cron fire already recorded: workflow ${args.workflowId} trigger #${args.triggerIndex} at ${args.fireTime}`,
      );
    }
    const pair = `${args.workflowId}#${args.triggerIndex}`;
    const previousLast = this.#lastFire.get(pair);
    const record: CronFireRecord = { ...args, createdAt: this.#now() };
    this.#write(
      () => {
        this.#fires.set(key, record);
        this.#lastFire.set(pair, Math.max(previousLast ?? -Infinity, args.fireTime));
      },
      () => {
        this.#fires.delete(key);
        if (previousLast === undefined) this.#lastFire.delete(pair);
        else this.#lastFire.set(pair, previousLast);
      },
    );
  }

  /** `MAX(fireTime)` of the trigger, or `null`. */
  lastCronFire(workflowId: string, triggerIndex: number): number | null {
    this.#open();
    return this.#lastFire.get(`${workflowId}#${triggerIndex}`) ?? null;
  }

  /** Every recorded fire, in recording order (test inspection). */
  listCronFires(): CronFireRecord[] {
    return [...this.#fires.values()].map((record) => ({ ...record }));
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

  #write(apply: () => void, revert: () => void): void {
    apply();
    this.#undo?.push(revert);
  }
}

/**
 * An in-memory `SupervisorStore` for unit tests of the supervisor and its consumers. It follows
 * the store contract of spec 02 §4.7 (checked by `describeSupervisorStore`): transactions roll
 * back through an undo journal, `afterCommit` runs after the outermost commit, expect-guarded
 * status updates, idempotent `createRun`, all-or-nothing `appendEvents`.
 */
import type { JsonValue, RunEvent, RunStatus } from "@promenade/workflow";
import { EngineError } from "@promenade/workflow/errors";
import type { ArtifactRow, EventRow, RunRow, SupervisorStore, WorkflowRow } from "../ports.ts";

/** Arguments of {@link InMemorySupervisorStore.addWorkflow}. */
export interface AddWorkflowArgs {
  slug: string;
  manifest: WorkflowRow["manifest"];
  program: string;
  config?: Record<string, JsonValue>;
}

/** The fake store plus the seeding and read helpers tests need. */
export interface InMemorySupervisorStore extends SupervisorStore {
  /** Inserts or replaces a workflow by slug (`id`/`createdAt` kept on replace). */
  addWorkflow(args: AddWorkflowArgs): WorkflowRow;
  /** Events of a run with `cursor > afterCursor`, ascending. */
  listEvents(runId: string, options?: { afterCursor?: number }): EventRow[];
  /** Artifacts of a run in creation order. */
  listArtifacts(runId: string): ArtifactRow[];
}

/** Creates an empty in-memory store; `now` stamps rows (default `Date.now`). */
export function createInMemorySupervisorStore(
  options: { now?: () => number } = {},
): InMemorySupervisorStore {
  const now = options.now ?? (() => Date.now());
  const workflows = new Map<string, WorkflowRow>();
  const runs = new Map<string, RunRow>();
  const runOrder: string[] = [];
  const events = new Map<string, Map<number, RunEvent>>();
  const artifacts: ArtifactRow[] = [];
  let depth = 0;
  let undo: (() => void)[] = [];
  let commitQueue: (() => void)[] = [];
  let counter = 0;
  const newId = (): string => {
    counter += 1;
    return `${now().toString(36).toUpperCase().padStart(10, "0")}${counter.toString(36).toUpperCase().padStart(16, "0")}`;
  };
  const journal = (fn: () => void): void => {
    if (depth > 0) undo.push(fn);
  };
  const copy = <T>(value: T): T => structuredClone(value);
  const requireRun = (id: string): RunRow => {
    const run = runs.get(id);
    if (run === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return run;
  };
  const setRun = (run: RunRow): void => {
    const previous = runs.get(run.id);
    runs.set(run.id, run);
    journal(() => {
      if (previous === undefined) {
        runs.delete(run.id);
        runOrder.splice(runOrder.indexOf(run.id), 1);
      } else runs.set(run.id, previous);
    });
  };
  const nonNegativeInt = (value: unknown, what: string): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new EngineError("VALIDATION", `${what} must be a non-negative integer.`);
    }
    return value;
  };

  const store: InMemorySupervisorStore = {
    transaction<T>(fn: () => T): T {
      if (depth > 0) return fn();
      depth = 1;
      undo = [];
      commitQueue = [];
      let result: T;
      try {
        result = fn();
      } catch (err) {
        for (const step of undo.reverse()) step();
        depth = 0;
        undo = [];
        commitQueue = [];
        throw err;
      }
      depth = 0;
      const queued = commitQueue;
      undo = [];
      commitQueue = [];
      for (const cb of queued) cb();
      return result;
    },
    afterCommit(fn) {
      if (depth > 0) commitQueue.push(fn);
      else fn();
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
      };
      workflows.set(row.id, row);
      return copy(row);
    },
    getWorkflow(slug) {
      const row = [...workflows.values()].find((w) => w.slug === slug);
      return row === undefined ? null : copy(row);
    },
    getWorkflowById(id) {
      const row = workflows.get(id);
      return row === undefined ? null : copy(row);
    },
    getRun(id) {
      const row = runs.get(id);
      return row === undefined ? null : copy(row);
    },
    listRuns(filter = {}) {
      if (filter.statuses !== undefined && filter.statuses.length === 0) return [];
      let rows = runOrder.map((id) => runs.get(id)).filter((r): r is RunRow => r !== undefined);
      rows = rows.filter(
        (r) =>
          (filter.workflowId === undefined || r.workflowId === filter.workflowId) &&
          (filter.statuses === undefined || filter.statuses.includes(r.status)) &&
          (filter.parentRunId === undefined || r.parentRunId === filter.parentRunId),
      );
      rows.sort(
        (a, b) => a.createdAt - b.createdAt || runOrder.indexOf(a.id) - runOrder.indexOf(b.id),
      );
      if ((filter.order ?? "newest") === "newest") rows.reverse();
      const offset = filter.offset ?? 0;
      rows = rows.slice(offset, filter.limit === undefined ? undefined : offset + filter.limit);
      return rows.map(copy);
    },
    createRun(args) {
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
        createdAt: now(),
        startedAt: null,
        endedAt: null,
      };
      runOrder.push(run.id);
      setRun(run);
      return { run: copy(run), created: true };
    },
    updateRunStatus(id, status: RunStatus, o = {}) {
      const run = requireRun(id);
      if (o.expect !== undefined && !o.expect.includes(run.status)) return false;
      const next: RunRow = { ...run, status };
      if (o.output !== undefined) next.output = copy(o.output);
      if (o.error !== undefined) next.error = copy(o.error);
      if (o.startedAt !== undefined && run.startedAt === null) next.startedAt = o.startedAt;
      if (o.endedAt !== undefined) next.endedAt = o.endedAt;
      setRun(next);
      return true;
    },
    incrementRestarts(id) {
      const run = requireRun(id);
      setRun({ ...run, restarts: run.restarts + 1 });
      return run.restarts + 1;
    },
    addRunUsage(id, usage) {
      const tokensIn = nonNegativeInt(usage.tokensIn ?? 0, "tokensIn");
      const tokensOut = nonNegativeInt(usage.tokensOut ?? 0, "tokensOut");
      const usdMicros = nonNegativeInt(usage.usdMicros ?? 0, "usdMicros");
      const run = requireRun(id);
      setRun({
        ...run,
        tokensIn: run.tokensIn + tokensIn,
        tokensOut: run.tokensOut + tokensOut,
        usdMicros: run.usdMicros + usdMicros,
      });
    },
    getRunUsage(id) {
      const run = requireRun(id);
      return { tokensIn: run.tokensIn, tokensOut: run.tokensOut, usdMicros: run.usdMicros };
    },
    appendEvents(runId, rows) {
      if (rows.length === 0) return;
      for (const row of rows) {
        if (!Number.isInteger(row.cursor) || row.cursor < 1) {
          throw new EngineError(
            "VALIDATION",
            `Event cursor must be an integer ≥ 1 (got ${row.cursor}).`,
          );
        }
      }
      requireRun(runId);
      const existing = events.get(runId) ?? new Map<number, RunEvent>();
      const seen = new Set<number>();
      for (const row of rows) {
        if (existing.has(row.cursor) || seen.has(row.cursor)) {
          throw new EngineError(
            "CONFLICT",
            `Run ${runId} already has an event at cursor ${row.cursor}.`,
          );
        }
        seen.add(row.cursor);
      }
      for (const row of rows) existing.set(row.cursor, copy(row.event));
      events.set(runId, existing);
      journal(() => {
        for (const row of rows) existing.delete(row.cursor);
      });
    },
    maxCursor(runId) {
      const map = events.get(runId);
      let max = 0;
      for (const cursor of map?.keys() ?? []) if (cursor > max) max = cursor;
      return max;
    },
    createArtifact(args) {
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
      journal(() => artifacts.splice(artifacts.indexOf(row), 1));
      return copy(row);
    },
    listEvents(runId, options = {}) {
      const map = events.get(runId);
      if (map === undefined) return [];
      const after = options.afterCursor ?? 0;
      return [...map.entries()]
        .filter(([cursor]) => cursor > after)
        .sort((a, b) => a[0] - b[0])
        .map(([cursor, event]) => ({ runId, cursor, event: copy(event) }));
    },
    listArtifacts(runId) {
      return artifacts.filter((a) => a.runId === runId).map(copy);
    },
  };
  return store;
}

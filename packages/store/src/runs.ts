/**
 * The `runs` table: creating a run together with its `queued` event, status transitions (the
 * bare UPDATE, and `commitStatus`: pending events, the UPDATE and its `run_status` event in one
 * transaction, which for a terminal status also closes the run's pending human-input requests),
 * restart and usage tallies, and the index-range listings.
 */
import { and, eq, inArray, sql, type SQL } from "drizzle-orm";
import { EngineError } from "@promenade/workflow/errors";
import { isTerminal } from "@promenade/workflow/records";
import type { ListRunsFilter, RunRow, RunUsage } from "@promenade/workflow/records";
import {
  describe,
  requireInteger,
  requirePassReason,
  requireStatus,
  requireString,
  sizedJson,
  validation,
} from "./internal/args.ts";
import type { TableContext } from "./internal/context.ts";
import { toJsonText } from "./internal/json.ts";
import { readDelivery } from "./internal/deliveries.ts";
import { readRequestKey } from "./internal/request-keys.ts";
import { readEventError } from "./internal/event-error.ts";
import { describeIssues, runErrorSchema, toRunRow } from "./internal/rows.ts";
import {
  RUN_STATUSES,
  TRIGGER_KINDS,
  TURN_CURSOR_STRIDE,
  type RunEvent,
  type RunStatus,
} from "./internal/sdk.ts";
import type { EventTable } from "./events.ts";
import { RunListing, type RunKeyRow } from "./run-listing.ts";
import type { Route } from "./feed.ts";
import { DeliveryTable } from "./deliveries.ts";
import { RequestKeyTable } from "./request-keys.ts";
import { runs, workflows } from "./schema.ts";
import type {
  CreateRunArgs,
  RunUsageDelta,
  StatusChange,
  UpdateRunStatusOptions,
} from "./types.ts";
import type { WorkflowTable } from "./workflows.ts";
import { readVersionNumber, unknownVersion } from "./internal/versions.ts";
import type { VersionKey, VersionTable } from "./versions.ts";

const MAX_KEY_LENGTH = 1024;
const TRIGGER_SET: ReadonlySet<string> = new Set(TRIGGER_KINDS);

type RawRun = typeof runs.$inferSelect;

/** A prepared write, run with named placeholder values. */
interface PreparedRun {
  run(params: Record<string, unknown>): { changes: number };
}

/** A validated status UPDATE: its parameters, the `expect` count, and the event's error. */
interface StatusUpdate {
  params: Record<string, unknown>;
  expectCount: number | undefined;
  error: { code: string; message: string } | undefined;
}

export class RunTable {
  readonly #c: TableContext;
  readonly #workflows: WorkflowTable;
  readonly #versions: VersionTable;
  readonly #events: EventTable;
  /** Called inside the transaction of a terminal status (cancels pending human-input requests). */
  readonly #onEnd: (runId: string) => void;
  readonly #s;
  readonly #listing: RunListing;
  /** Status UPDATEs by shape (see `#statusUpdate`); at most 2^4 × a few entries. */
  readonly #statusUpdates = new Map<string, PreparedRun>();
  readonly #requestKeys: RequestKeyTable;
  readonly #deliveries: DeliveryTable;

  constructor(
    context: TableContext,
    workflowTable: WorkflowTable,
    versions: VersionTable,
    events: EventTable,
    onEnd: (runId: string) => void,
  ) {
    this.#c = context;
    this.#workflows = workflowTable;
    this.#versions = versions;
    this.#events = events;
    this.#requestKeys = new RequestKeyTable(context);
    this.#deliveries = new DeliveryTable(context);
    this.#onEnd = onEnd;
    const { orm } = context;
    const p = sql.placeholder;
    this.#listing = new RunListing(context.db, context.logQuery);
    this.#s = {
      byId: orm
        .select()
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      exists: orm
        .select({ id: runs.id })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      byKey: orm
        .select()
        .from(runs)
        .where(
          and(
            sql`COALESCE(${runs.parentRunId}, '') = ${p("parent")}`,
            eq(runs.idempotencyKey, p("key")),
          ),
        )
        .prepare(),
      key: orm
        .select({ createdAt: runs.createdAt, rowid: sql<number>`rowid` })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      route: orm
        .select({ workflowId: runs.workflowId, workflowSlug: workflows.slug })
        .from(runs)
        .innerJoin(workflows, eq(workflows.id, runs.workflowId))
        .where(eq(runs.id, p("id")))
        .prepare(),
      incrementRestarts: orm
        .update(runs)
        .set({ restarts: sql`${runs.restarts} + 1` })
        .where(eq(runs.id, p("id")))
        .returning({ restarts: runs.restarts })
        .prepare(),
      addActiveMs: orm
        .update(runs)
        .set({ activeMs: sql`${runs.activeMs} + ${p("ms")}` })
        .where(eq(runs.id, p("id")))
        .returning({ activeMs: runs.activeMs })
        .prepare(),
      scheduleRetry: orm
        .update(runs)
        .set({ retries: sql`${runs.retries} + 1`, retryAt: sql`${p("at")}` })
        .where(eq(runs.id, p("id")))
        .returning({ retries: runs.retries })
        .prepare(),
      clearRetry: orm
        .update(runs)
        .set({ retryAt: null })
        .where(eq(runs.id, p("id")))
        .returning({ id: runs.id })
        .prepare(),
      addUsage: orm
        .update(runs)
        .set({
          tokensIn: sql`${runs.tokensIn} + ${p("tokensIn")}`,
          tokensOut: sql`${runs.tokensOut} + ${p("tokensOut")}`,
          usdMicros: sql`${runs.usdMicros} + ${p("usdMicros")}`,
        })
        .where(eq(runs.id, p("id")))
        .returning({
          tokensIn: runs.tokensIn,
          tokensOut: runs.tokensOut,
          usdMicros: runs.usdMicros,
        })
        .prepare(),
      usage: orm
        .select({ tokensIn: runs.tokensIn, tokensOut: runs.tokensOut, usdMicros: runs.usdMicros })
        .from(runs)
        .where(eq(runs.id, p("id")))
        .prepare(),
      insert: orm
        .insert(runs)
        .values({
          id: p("id"),
          workflowId: p("workflowId"),
          status: p("status"),
          triggerKind: p("triggerKind"),
          input: p("input"),
          output: p("output"),
          error: p("error"),
          parentRunId: p("parentRunId"),
          idempotencyKey: p("idempotencyKey"),
          restarts: p("restarts"),
          tokensIn: p("tokensIn"),
          tokensOut: p("tokensOut"),
          usdMicros: p("usdMicros"),
          createdAt: p("createdAt"),
          startedAt: p("startedAt"),
          endedAt: p("endedAt"),
          versionId: p("versionId"),
          version: p("version"),
        })
        .prepare(),
    };
  }

  /** The run, or `null`. */
  get(id: string): RunRow | null {
    if (typeof id !== "string")
      throw validation(`getRun(id): id must be a string, got ${describe(id)}.`);
    const raw = this.#s.byId.get({ id });
    return raw === undefined ? null : toRunRow(raw);
  }

  /** Whether the run exists (one indexed read). */
  exists(id: string): boolean {
    return this.#s.exists.get({ id }) !== undefined;
  }

  /** The run's workflow id and slug (the feed's routing); unknown run ⇒ `NOT_FOUND`. */
  route(runId: string): Route {
    const route = this.#s.route.get({ id: runId });
    if (route === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${runId}`);
    return route;
  }

  /**
   * Inserts a `queued` run and its `queued` event, or finds it by idempotency key or by request
   * key. A webhook delivery already received is refused first; a new run's request key and
   * delivery keys are written in its transaction.
   */
  create(args: CreateRunArgs): { run: RunRow; created: boolean } {
    if (typeof args !== "object" || args === null)
      throw validation("createRun(args): args must be an object.");
    const workflowId = requireString(args.workflowId, "createRun: workflowId");
    if (typeof args.triggerKind !== "string" || !TRIGGER_SET.has(args.triggerKind)) {
      throw validation(
        `createRun: triggerKind must be one of ${TRIGGER_KINDS.join(", ")}, got ${describe(args.triggerKind)}.`,
      );
    }
    const input =
      args.input === undefined
        ? null
        : toJsonText(args.input, "createRun: input", this.#c.settings.maxValueBytes);
    const parentRunId =
      args.parentRunId === undefined
        ? null
        : requireString(args.parentRunId, "createRun: parentRunId");
    let key: string | null = null;
    if (args.idempotencyKey !== undefined) {
      key = requireString(args.idempotencyKey, "createRun: idempotencyKey");
      if (key.length > MAX_KEY_LENGTH) {
        throw validation(
          `createRun: idempotencyKey is ${String(key.length)} characters, over the ${String(MAX_KEY_LENGTH)} limit.`,
          "Hash long keys (e.g. SHA-256 hex) before passing them.",
        );
      }
    }
    const triggerKind = args.triggerKind;
    const requestKey = readRequestKey(args);
    const delivery = readDelivery(args);
    const versionNumber = readVersionNumber(args.version, "createRun: version");
    return this.#c.tx.atomic(() => {
      const workflow = this.#workflows.key(workflowId);
      if (workflow === undefined) {
        throw new EngineError(
          "NOT_FOUND",
          `Unknown workflow: ${workflowId}`,
          "Deploy the workflow before creating runs of it.",
        );
      }
      if (parentRunId !== null && !this.exists(parentRunId)) {
        throw new EngineError("NOT_FOUND", `Unknown parent run: ${parentRunId}`);
      }
      let version: VersionKey | undefined;
      if (versionNumber !== null) {
        version = this.#versions.key(workflowId, versionNumber);
        if (version === undefined) throw unknownVersion(workflow.slug, versionNumber);
      }
      if (key !== null) {
        const existing = this.#s.byKey.get({ parent: parentRunId ?? "", key });
        if (existing !== undefined) {
          if (existing.workflowId !== workflowId) {
            throw new EngineError(
              "CONFLICT",
              `Idempotency key "${key}" already belongs to run ${existing.id} of another workflow (${existing.workflowId}).`,
              "Use a key that includes the workflow, or reuse it only for the same workflow.",
            );
          }
          return { run: toRunRow(existing), created: false };
        }
      }
      if (delivery !== null) this.#deliveries.refuseRepeat(workflowId, delivery);
      if (requestKey !== null) {
        const boundRunId = this.#requestKeys.find(workflowId, requestKey);
        if (boundRunId !== null) {
          const bound = this.get(boundRunId);
          if (bound === null) throw new EngineError("INTERNAL", `Run ${boundRunId} vanished.`);
          return { run: bound, created: false };
        }
      }
      const run = this.insertQueued(workflow, triggerKind, input, parentRunId, key, version);
      if (requestKey !== null) {
        this.#requestKeys.bind(workflowId, requestKey, run.id, run.createdAt);
      }
      if (delivery !== null) {
        this.#deliveries.remember(workflowId, delivery, run.id, run.createdAt);
      }
      return { run, created: true };
    });
  }

  /**
   * Inserts a `queued` run and its `queued` `run_status` event (cursor 1, seq 1, at the run's
   * creation time), on `version` or else the workflow's current version. Call inside a
   * transaction; arguments already checked.
   */
  insertQueued(
    workflow: { id: string; slug: string },
    triggerKind: RawRun["triggerKind"],
    input: string | null,
    parentRunId: string | null,
    key: string | null,
    version?: VersionKey,
  ): RunRow {
    const now = this.#c.settings.now();
    const on = version ?? this.#versions.current(workflow.id);
    const raw: RawRun = {
      id: this.#c.newId(),
      workflowId: workflow.id,
      status: "queued",
      triggerKind,
      input,
      output: null,
      error: null,
      parentRunId,
      idempotencyKey: key,
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
      versionId: on?.id ?? null,
      version: on?.number ?? null,
    };
    this.#s.insert.run(raw);
    const runId = raw.id;
    this.#c.feed.remember(runId, { workflowId: workflow.id, workflowSlug: workflow.slug });
    // Built from typed values: not re-validated (this is the start path).
    const event: RunEvent = {
      kind: "run_status",
      status: "queued",
      runId,
      turnId: runId,
      seq: 1,
      t: now,
    };
    this.#events.insert(runId, [{ cursor: 1, event, text: JSON.stringify(event) }]);
    return toRunRow(raw);
  }

  /** Sets the status (and given fields), writing no event; with `expect`, whether it applied. */
  updateStatus(id: string, status: RunStatus, options?: UpdateRunStatusOptions): boolean {
    requireString(id, "updateRunStatus: id");
    const o = options ?? {};
    if (typeof o !== "object") throw validation("updateRunStatus: options must be an object.");
    return this.#applyStatus(id, this.#statusParams("updateRunStatus", id, status, o));
  }

  /**
   * One transaction: `change.pending`, then — when the status is one of `change.expect` — the
   * UPDATE and its `run_status` event at `change.stamp`, or at seq 1 of a fresh block after the
   * run's highest cursor. The updated row, or `null` when the status did not apply.
   */
  commitStatus(runId: string, change: StatusChange): RunRow | null {
    requireString(runId, "commitStatus: runId");
    if (typeof change !== "object" || change === null)
      throw validation("commitStatus(runId, change): change must be an object.");
    if (!Array.isArray(change.expect))
      throw validation("commitStatus: change.expect must be an array of statuses.");
    const update = this.#statusParams("commitStatus", runId, change.to, change);
    const reason =
      change.reason === undefined
        ? undefined
        : requirePassReason(change.reason, "commitStatus: reason");
    const eventError = readEventError(runId, change.eventError);
    const pending =
      change.pending === undefined
        ? []
        : this.#events.prepare("commitStatus", runId, change.pending, "change.pending");
    let stamp: { cursor: number; seq: number } | undefined = undefined;
    if (change.stamp !== undefined) {
      if (typeof change.stamp !== "object" || change.stamp === null)
        throw validation("commitStatus: change.stamp must be { cursor, seq }.");
      stamp = {
        cursor: requireInteger(change.stamp.cursor, "commitStatus: stamp.cursor", 1),
        seq: requireInteger(change.stamp.seq, "commitStatus: stamp.seq", 1),
      };
    }
    return this.#c.tx.atomic(() => {
      this.#events.insert(runId, pending);
      if (!this.#applyStatus(runId, update)) return null;
      if (stamp === undefined) {
        const block = Math.floor(this.#events.maxCursor(runId) / TURN_CURSOR_STRIDE) + 1;
        stamp = { cursor: block * TURN_CURSOR_STRIDE + 1, seq: 1 };
      }
      // Built from checked values: not re-parsed (every status transition passes here).
      const body: Record<string, unknown> = { kind: "run_status", status: change.to };
      if (update.error !== undefined) body.error = update.error;
      else if (eventError !== undefined) body.error = eventError;
      if (reason !== undefined) body.reason = reason;
      const event = {
        ...body,
        runId,
        turnId: runId,
        seq: stamp.seq,
        t: this.#c.settings.now(),
      } as RunEvent;
      const text = sizedJson(
        event,
        `commitStatus(${runId}): event`,
        this.#c.settings.maxValueBytes,
      );
      this.#events.insert(runId, [{ cursor: stamp.cursor, event, text }]);
      if (isTerminal(change.to)) this.#onEnd(runId);
      const raw = this.#s.byId.get({ id: runId });
      if (raw === undefined) throw new EngineError("INTERNAL", `Run ${runId} vanished.`);
      return toRunRow(raw);
    });
  }

  /** Checks one status transition into the parameters of its prepared UPDATE. */
  #statusParams(
    method: string,
    id: string,
    status: RunStatus,
    o: UpdateRunStatusOptions,
  ): StatusUpdate {
    requireStatus(status, `${method}: status`);
    const maxBytes = this.#c.settings.maxValueBytes;
    const params: Record<string, unknown> = { id, status };
    let error: StatusUpdate["error"] = undefined;
    if (o.output !== undefined) {
      params.output = toJsonText(o.output, `${method}(${id}): output`, maxBytes);
    }
    if (o.error !== undefined) {
      const parsed = runErrorSchema.safeParse(o.error);
      if (!parsed.success) {
        throw validation(
          `${method}(${id}): error must be { code, message, hint? }: ${describeIssues(parsed.error)}.`,
        );
      }
      // The event carries the code and message; the hint stays on the row.
      error = { code: parsed.data.code, message: parsed.data.message };
      params.error = toJsonText(parsed.data, `${method}(${id}): error`, maxBytes);
    }
    if (o.startedAt !== undefined)
      params.startedAt = requireInteger(o.startedAt, `${method}: startedAt`, 0);
    if (o.endedAt !== undefined)
      params.endedAt = requireInteger(o.endedAt, `${method}: endedAt`, 0);
    let expectCount: number | undefined = undefined;
    if (o.expect !== undefined) {
      if (!Array.isArray(o.expect))
        throw validation(`${method}: expect must be an array of statuses.`);
      o.expect.forEach((s, i) => {
        params[`expect${String(i)}`] = requireStatus(s, `${method}: expect[${String(i)}]`);
      });
      expectCount = o.expect.length;
    }
    return { params, expectCount, error };
  }

  /** Runs a checked status UPDATE; false when `expect` did not match. Unknown ⇒ `NOT_FOUND`. */
  #applyStatus(id: string, update: StatusUpdate): boolean {
    const result = this.#statusUpdate(update.params, update.expectCount).run(update.params);
    if (result.changes > 0) return true;
    if (!this.exists(id)) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return false;
  }

  /**
   * The prepared UPDATE for one shape of status transition (which columns it sets, how many
   * `expect` statuses), built once: every status transition of every run goes through here,
   * and building plus preparing the SQL each time is measurable start latency.
   */
  #statusUpdate(params: Record<string, unknown>, expectCount: number | undefined): PreparedRun {
    const has = (name: string): boolean => params[name] !== undefined;
    const shape = `${["output", "error", "startedAt", "endedAt"].map((n) => (has(n) ? "1" : "0")).join("")}:${String(expectCount ?? -1)}`;
    let statement = this.#statusUpdates.get(shape);
    if (statement === undefined) {
      const p = sql.placeholder;
      const set: Record<string, unknown> = { status: p("status") };
      if (has("output")) set.output = p("output");
      if (has("error")) set.error = p("error");
      // The first pass's start wins: a later pass never resets it.
      if (has("startedAt")) set.startedAt = sql`COALESCE(${runs.startedAt}, ${p("startedAt")})`;
      if (has("endedAt")) set.endedAt = p("endedAt");
      let where: SQL | undefined = eq(runs.id, p("id"));
      if (expectCount !== undefined) {
        where =
          expectCount === 0
            ? sql`0`
            : and(
                where,
                inArray(
                  runs.status,
                  Array.from({ length: expectCount }, (_, i) => p(`expect${String(i)}`)),
                ),
              );
      }
      statement = this.#c.orm.update(runs).set(set).where(where).prepare();
      this.#statusUpdates.set(shape, statement);
    }
    return statement;
  }

  /** `restarts + 1`; the new value. Unknown ⇒ `NOT_FOUND`. */
  incrementRestarts(id: string): number {
    requireString(id, "incrementRestarts: id");
    const row = this.#s.incrementRestarts.get({ id });
    if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return row.restarts;
  }

  /** Adds `ms` to the run's active time; the new total. Unknown ⇒ `NOT_FOUND`. */
  addActiveMs(id: string, ms: number): number {
    requireString(id, "addActiveMs: id");
    const row = this.#s.addActiveMs.get({ id, ms: requireInteger(ms, "addActiveMs: ms", 0) });
    if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return row.activeMs;
  }

  /** `retries + 1` with the next attempt due at `at`; the new count. Unknown ⇒ `NOT_FOUND`. */
  scheduleRetry(id: string, at: number): number {
    requireString(id, "scheduleRetry: id");
    const row = this.#s.scheduleRetry.get({ id, at: requireInteger(at, "scheduleRetry: at", 0) });
    if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return row.retries;
  }

  /** Clears the due time of a waiting retry (its attempt started). Unknown ⇒ `NOT_FOUND`. */
  clearRetry(id: string): void {
    requireString(id, "clearRetry: id");
    if (this.#s.clearRetry.get({ id }) === undefined) {
      throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    }
  }

  /** Adds to the usage tallies; the new totals. */
  addUsage(id: string, usage: RunUsageDelta): RunUsage {
    requireString(id, "addRunUsage: id");
    if (typeof usage !== "object" || usage === null)
      throw validation("addRunUsage: usage must be an object.");
    const amount = (value: number | undefined, name: string): number =>
      value === undefined ? 0 : requireInteger(value, `addRunUsage(${id}): ${name}`, 0);
    const totals = this.#s.addUsage.get({
      id,
      tokensIn: amount(usage.tokensIn, "tokensIn"),
      tokensOut: amount(usage.tokensOut, "tokensOut"),
      usdMicros: amount(usage.usdMicros, "usdMicros"),
    });
    if (totals === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return totals;
  }

  /** The usage tallies. Unknown ⇒ `NOT_FOUND`. */
  usage(id: string): RunUsage {
    requireString(id, "getRunUsage: id");
    const row = this.#s.usage.get({ id });
    if (row === undefined) throw new EngineError("NOT_FOUND", `Unknown run: ${id}`);
    return row;
  }

  /** Runs matching `filter`, newest first by default; every filter is an index range. */
  list(filter: ListRunsFilter = {}): RunRow[] {
    if (typeof filter !== "object" || filter === null)
      throw validation("listRuns(filter): filter must be an object.");
    const order = filter.order ?? "newest";
    if (order !== "newest" && order !== "oldest") {
      throw validation(`listRuns: order must be "newest" or "oldest", got ${describe(order)}.`);
    }
    const limit =
      filter.limit === undefined ? undefined : requireInteger(filter.limit, "listRuns: limit", 0);
    const offset =
      filter.offset === undefined ? 0 : requireInteger(filter.offset, "listRuns: offset", 0);
    if (filter.beforeRunId !== undefined && filter.offset !== undefined) {
      throw validation(
        "listRuns: beforeRunId and offset cannot be combined.",
        "Page with beforeRunId (keyset) or with offset, not both.",
      );
    }
    let statuses: RunStatus[] | undefined;
    if (filter.statuses !== undefined) {
      if (!Array.isArray(filter.statuses)) throw validation("listRuns: statuses must be an array.");
      statuses = [
        ...new Set(
          filter.statuses.map((s, i) => requireStatus(s, `listRuns: statuses[${String(i)}]`)),
        ),
      ];
      if (statuses.length === 0) return [];
    }
    const workflowId =
      filter.workflowId === undefined
        ? undefined
        : requireString(filter.workflowId, "listRuns: workflowId");
    const parentRunId =
      filter.parentRunId === undefined
        ? undefined
        : requireString(filter.parentRunId, "listRuns: parentRunId");
    const since =
      filter.createdSince === undefined
        ? undefined
        : requireInteger(filter.createdSince, "listRuns: createdSince", 0);
    const before =
      filter.createdBefore === undefined
        ? undefined
        : requireInteger(filter.createdBefore, "listRuns: createdBefore", 0);
    let anchor: { createdAt: number; rowid: number } | undefined;
    if (filter.beforeRunId !== undefined) {
      const id = requireString(filter.beforeRunId, "listRuns: beforeRunId");
      anchor = this.#s.key.get({ id });
      if (anchor === undefined)
        throw new EngineError(
          "NOT_FOUND",
          `Unknown run: ${id}`,
          "beforeRunId must name a run of a previous page.",
        );
    }
    if (limit === 0) return [];
    if (since !== undefined && before !== undefined && since >= before) return [];
    const newest = order === "newest";
    const take = limit === undefined ? -1 : offset + limit;
    // A creation-time window narrows every index range below (each ends in created_at).
    const base = {
      keyset: anchor !== undefined,
      since: since !== undefined,
      before: before !== undefined,
      newest,
    };
    const values = { anchor, since, before, take };
    let rows: RunKeyRow[];
    if (parentRunId !== undefined) {
      // Children of one parent are few: the parent index narrows, the rest is a filter.
      rows = this.#listing.query(
        {
          ...base,
          parent: true,
          workflow: workflowId !== undefined,
          statuses: statuses?.length ?? 0,
        },
        { ...values, parentRunId, workflowId, statuses },
      );
    } else if (workflowId !== undefined || statuses !== undefined) {
      // One index range per status, each already in (created_at, rowid) order, merged here:
      // SQLite cannot merge the ranges of an IN list itself and would sort the whole match set.
      const shape = { ...base, parent: false, workflow: workflowId !== undefined, statuses: 1 };
      const perStatus = (statuses ?? [...RUN_STATUSES]).map((status) =>
        this.#listing.query(shape, { ...values, workflowId, statuses: [status] }),
      );
      rows = mergeRuns(perStatus, newest, take);
    } else {
      rows = this.#listing.query({ ...base, parent: false, workflow: false, statuses: 0 }, values);
    }
    const page = limit === undefined ? rows.slice(offset) : rows.slice(offset, offset + limit);
    return page.map(toRunRow);
  }

  // ---------------------------------------------------------------- events
}

/** Merges lists each sorted by (created_at, rowid) in `newest`/oldest order; keeps `take` (−1: all). */
function mergeRuns(lists: RunKeyRow[][], newest: boolean, take: number): RunKeyRow[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length <= 1) return nonEmpty[0] ?? [];
  const sign = newest ? -1 : 1;
  const merged = nonEmpty
    .flat()
    .sort((a, b) => sign * (a.createdAt - b.createdAt || a.rowid - b.rowid));
  return take < 0 ? merged : merged.slice(0, take);
}

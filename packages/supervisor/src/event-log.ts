/**
 * The event log of one executing run: its cursor envelope, the buffer of stamped events, the
 * flushes that append them and the status transitions that commit with them. Every store write
 * of the run goes through one serial queue, so writes commit in the order they were issued and
 * cursor order is commit order even when the store answers asynchronously. When the queue is
 * idle and the store answers synchronously, a write completes in the caller's turn.
 *
 * Invariants: cursors are allocated when an event is stamped or a transition is issued, and each
 * queued write holds only cursors above every earlier write's; nothing is stamped once a
 * terminal transition is issued; once a write of the run fails (`fatal`) no more events are
 * appended — only the status transition that ends the run — so a lost batch is never followed
 * by later program events; once sealed (engine shutdown) nothing new is queued, while writes
 * queued before still complete.
 */
import { runEventSchema } from "@promenade/workflow";
import type { RunEvent } from "@promenade/workflow";
import { andThen, isPromiseLike } from "@promenade/workflow/records";
import { Envelope } from "./internal/envelope.ts";
import { closedError } from "./internal/errors.ts";
import { EngineError } from "@promenade/workflow/errors";
import type { Redactor } from "@promenade/workflow/redact";
import type {
  Awaitable,
  EventAppend,
  EventRow,
  RunRow,
  StatusChange,
  SupervisorStore,
} from "./ports.ts";

/** Events stamped before a flush is forced (instead of waiting for the next macrotask). */
const MAX_BUFFERED_EVENTS = 2_000;
/** Largest batch a waiting flush grows to while an earlier write is in flight. */
const MAX_BATCH_EVENTS = 2_000;

/** A status transition as the supervisor issues it; the log adds `pending` and `stamp`. */
export type Transition = Omit<StatusChange, "pending" | "stamp">;

/** What an {@link EventLog} needs from its supervisor. */
export interface EventLogOptions {
  store: SupervisorStore;
  runId: string;
  /** Event `t`. */
  now: () => number;
  /** The run's known secrets; stamped bodies are redacted against them (a live set). */
  redactor: Pick<Redactor, "redactDeep">;
  /** A diagnostic about this run. */
  log: (line: string) => void;
  /** Called once, when the first write of the run fails. */
  onFatal: (error: Error) => void;
}

type Task =
  | { kind: "append"; rows: EventRow[] }
  | {
      kind: "write";
      run: () => Awaitable<unknown>;
      /** Names the write in the diagnostic when it fails. */
      what: string;
      state: "waiting" | "done" | "failed";
      value: unknown;
      error: unknown;
      resolve?: (value: unknown) => void;
      reject?: (error: unknown) => void;
    };

/** One executing run's envelope, buffer and serial write queue. */
export class EventLog {
  private readonly options: EventLogOptions;
  private envelope = new Envelope(0, 0);
  private buffer: EventRow[] = [];
  private flushScheduled = false;
  private readonly queue: Task[] = [];
  private busy = false;
  private pumping = false;
  private idleWaiters: (() => void)[] = [];
  private resumed = false;
  private ended = false;
  private refused = false;
  private sealed = false;
  /** The first failed write of this run; from then on no event is appended. */
  fatal: Error | undefined;

  constructor(options: EventLogOptions) {
    this.options = options;
  }

  /** Positions the envelope after the run's highest persisted cursor (the next block). */
  resume(maxCursor: number): void {
    this.envelope = Envelope.resume(maxCursor);
    this.resumed = true;
  }

  /**
   * Reads the run's highest persisted cursor and resumes after it, in queue order: a write issued
   * before (an answer stored while the pass was starting, in a fresh block) is persisted before
   * the read, so the pass's block comes after it; one issued after is stamped from the envelope.
   */
  resumeFromStore(maxCursor: () => Awaitable<number>): Awaitable<void> {
    return this.write("could not read the run's events", () =>
      andThen(maxCursor(), (max) => this.resume(max)),
    );
  }

  /** Opens a new cursor block (before an agent turn's `turn_started`). */
  newBlock(): void {
    this.envelope.newBlock();
  }

  /**
   * Validates, redacts and buffers one event body; the buffer is flushed on the next macrotask
   * (or at once when it is large). Dropped (and logged) after the run's terminal transition.
   * True when the event was buffered.
   */
  stamp(body: { kind: string } & Record<string, unknown>, turnId?: string): boolean {
    if (this.sealed || this.fatal !== undefined) return false;
    if (this.ended) {
      this.options.log(`dropped a late "${body.kind}" event (run already ended)`);
      return false;
    }
    const { runId, redactor } = this.options;
    const safeBody = redactor.redactDeep(body);
    const position = { block: this.envelope.block, seq: this.envelope.seq };
    const next = this.envelope.next();
    const event = {
      ...safeBody,
      runId,
      turnId: turnId ?? runId,
      seq: next.seq,
      t: this.options.now(),
    };
    const check = runEventSchema.safeParse(event);
    if (!check.success) {
      this.envelope.block = position.block;
      this.envelope.seq = position.seq;
      this.options.log(
        `dropped an invalid "${body.kind}" event: ${check.error.issues[0]?.message ?? "invalid"}`,
      );
      return false;
    }
    this.buffer.push({ runId, cursor: next.cursor, event: event as RunEvent });
    if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return true;
  }

  /**
   * Queues the buffered events as one append. While an earlier write is in flight, a waiting
   * append grows instead (one round trip carries many events under load).
   */
  flush(): void {
    if (this.buffer.length === 0 || this.sealed) return;
    const rows = this.buffer;
    this.buffer = [];
    if (this.fatal !== undefined) return;
    const last = this.queue.at(-1);
    if (last?.kind === "append" && last.rows.length + rows.length <= MAX_BATCH_EVENTS) {
      last.rows.push(...rows);
      return;
    }
    this.queue.push({ kind: "append", rows });
    this.pump();
  }

  /**
   * Issues a status transition: the buffered events go with it as `pending` and its
   * `run_status` event takes the envelope's next cursor (before {@link resume}, e.g. when the
   * run's cursor could not be read, the store stamps it in a fresh block instead). A terminal
   * transition ends stamping.
   * Resolves with the updated row, or `null` when the run was not in `expect` (the run then
   * belongs to someone else: no more events are appended). Synchronous when the queue is idle
   * and the store is.
   */
  commitStatus(transition: Transition, options: { terminal: boolean }): Awaitable<RunRow | null> {
    if (this.sealed) throw closedError();
    const rows = this.buffer;
    this.buffer = [];
    const pending = this.fatal === undefined ? rows : [];
    const stamp = this.resumed ? this.envelope.next() : null;
    if (options.terminal) this.ended = true;
    const { store, runId } = this.options;
    const change: StatusChange = {
      ...transition,
      pending: pending.map((row) => ({ cursor: row.cursor, event: row.event })),
      ...(stamp === null ? {} : { stamp: { cursor: stamp.cursor, seq: stamp.seq } }),
    };
    return this.write(`could not commit the "${transition.to}" transition`, () => {
      const result = store.commitStatus(runId, change);
      const refusedIfNull = (row: RunRow | null): RunRow | null => {
        if (row === null) this.refused = true;
        return row;
      };
      return isPromiseLike(result) ? result.then(refusedIfNull) : refusedIfNull(result);
    });
  }

  /**
   * Issues a store write that commits the buffered events (`pending`) together with one event of
   * its own at the envelope's next cursor (`stamp`; before {@link resume}, `undefined`: the store
   * then stamps it in a fresh block). Used for the human-input request and its settlement, whose
   * events the store builds (they carry the request id it assigns). A write that ends up not
   * writing its event leaves that cursor unused. Synchronous when the queue is idle and the store
   * is; refused once the run's terminal transition was issued.
   */
  commitEvent<T>(
    what: string,
    run: (
      pending: EventAppend[],
      stamp: { cursor: number; seq: number } | undefined,
    ) => Awaitable<T>,
  ): Awaitable<T> {
    if (this.sealed) throw closedError();
    if (this.ended) throw new EngineError("INTERNAL", `Cannot ${what}: the run has ended.`);
    const rows = this.buffer;
    this.buffer = [];
    const pending =
      this.fatal === undefined ? rows.map((row) => ({ cursor: row.cursor, event: row.event })) : [];
    // Before `resume`, whether the envelope is positioned is decided when the write runs: a
    // pass's `resume` is itself queued (see `resumeFromStore`), and a write queued behind it
    // must take the envelope's cursor, not a fresh block the pass is about to use too.
    const stamp = this.resumed ? this.envelope.next() : undefined;
    return this.write(what, () =>
      run(pending, stamp ?? (this.resumed ? this.envelope.next() : undefined)),
    );
  }

  /**
   * Runs one store write of this run in queue order (after every write issued before it).
   * Returns its result synchronously when it ran at once and returned a plain value. A failure
   * rejects the caller and is fatal for the run's log (see {@link fail}); `what` names the
   * write in the diagnostic.
   */
  write<T>(what: string, run: () => Awaitable<T>): Awaitable<T> {
    if (this.sealed) throw closedError();
    const task: Extract<Task, { kind: "write" }> = {
      kind: "write",
      run,
      what,
      state: "waiting",
      value: undefined,
      error: undefined,
    };
    this.queue.push(task);
    this.pump();
    if (task.state === "done") return task.value as T;
    if (task.state === "failed") throw task.error;
    return new Promise<T>((resolve, reject) => {
      task.resolve = resolve as (value: unknown) => void;
      task.reject = reject;
    });
  }

  /**
   * Records a failure of this run's persistence: the run can no longer be recorded truthfully,
   * so no more events are appended (status transitions still are) and `onFatal` runs (once).
   */
  fail(error: unknown, what: string): void {
    if (this.fatal !== undefined) return;
    const err = error instanceof Error ? error : new Error(String(error));
    this.fatal = err;
    this.buffer = [];
    this.options.log(`${what}: ${err.message}`);
    this.options.onFatal(err);
  }

  /** Stops queueing new writes (engine shutdown); writes already queued still complete. */
  seal(): void {
    this.sealed = true;
    this.buffer = [];
  }

  /** Resolves once every queued write has settled. */
  idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.busy && this.queue.length > 0) {
        const task = this.queue.shift();
        if (task === undefined) break;
        let result: Awaitable<unknown>;
        try {
          result = task.kind === "append" ? this.append(task.rows) : task.run();
        } catch (error) {
          this.settle(task, false, error);
          continue;
        }
        if (isPromiseLike(result)) {
          this.busy = true;
          result.then(
            (value) => this.resumeAfter(task, true, value),
            (error: unknown) => this.resumeAfter(task, false, error),
          );
          break;
        }
        this.settle(task, true, result);
      }
    } finally {
      this.pumping = false;
    }
    if (!this.busy && this.queue.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private resumeAfter(task: Task, ok: boolean, outcome: unknown): void {
    this.busy = false;
    this.settle(task, ok, outcome);
    this.pump();
  }

  private append(rows: readonly EventRow[]): Awaitable<void> {
    if (this.fatal !== undefined || this.refused) return undefined;
    return this.options.store.appendEvents(
      this.options.runId,
      rows.map((row) => ({ cursor: row.cursor, event: row.event })),
    );
  }

  private settle(task: Task, ok: boolean, outcome: unknown): void {
    if (task.kind === "append") {
      if (!ok) this.fail(outcome, "could not persist events");
      return;
    }
    if (ok) {
      task.state = "done";
      task.value = outcome;
      task.resolve?.(outcome);
    } else {
      task.state = "failed";
      task.error = outcome;
      this.fail(outcome, task.what);
      task.reject?.(outcome);
    }
  }
}

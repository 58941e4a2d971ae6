/**
 * Transactions of the SQLite store: `BEGIN IMMEDIATE … COMMIT` with nesting (inner calls join
 * the outermost; one fate for all), savepoints that make each store method all-or-nothing
 * inside a caller's transaction, `afterCommit` callbacks, and the feed's outbox: published
 * after the outermost COMMIT, dropped with whatever rolls back.
 */
import type Database from "better-sqlite3";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { messageOf, sqliteCode, validation } from "./internal/args.ts";
import type { Feed } from "./feed.ts";

export class Transactions {
  readonly #db: Database.Database;
  readonly #feed: Feed;
  /** Called after every rollback (whole or savepoint): caches built from rolled-back reads go. */
  readonly #onRollback: () => void;
  /** Called after every commit (a transaction's, or an autocommitted statement's). */
  readonly #onCommit: () => void;
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  readonly #rollback: Database.Statement;
  #depth = 0;
  #poison: unknown = undefined;
  #pending: (() => void)[] = [];
  #savepoints = 0;

  constructor(db: Database.Database, feed: Feed, onRollback: () => void, onCommit: () => void) {
    this.#db = db;
    this.#feed = feed;
    this.#onRollback = onRollback;
    this.#onCommit = onCommit;
    this.#begin = db.prepare("BEGIN IMMEDIATE");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
  }

  /** True while a transaction is open (results read now may still roll back). */
  get open(): boolean {
    return this.#depth > 0;
  }

  /** Runs `fn` in a transaction, joining the open one; see `Store.transaction`. */
  run<T>(fn: () => T): T {
    if (typeof fn !== "function") throw validation("transaction(fn): fn must be a function.");
    if (this.#depth > 0) {
      this.#depth++;
      try {
        return checkSync(fn());
      } catch (error) {
        // Joining means one fate: even if the outer callback swallows this throw, the
        // outermost transaction must roll back rather than commit half of the work.
        this.#poison ??= error;
        throw error;
      } finally {
        this.#depth--;
      }
    }
    try {
      this.#begin.run();
    } catch (error) {
      throw wrapSqliteError(error, "transaction");
    }
    this.#depth = 1;
    this.#poison = undefined;
    let result: T;
    try {
      result = checkSync(fn());
      if (this.#poison !== undefined) {
        const cause = this.#poison;
        throw new EngineError(
          "INTERNAL",
          `Transaction rolled back: a nested transaction threw (${messageOf(cause)}) and the outer callback caught it.`,
          "Let errors from nested store.transaction() calls propagate, or catch them outside the outermost one.",
          { cause },
        );
      }
      this.#commit.run();
    } catch (error) {
      if (this.#db.inTransaction) this.#rollback.run();
      this.#pending = [];
      this.#feed.discard(0);
      this.#onRollback();
      throw wrapSqliteError(error, "transaction");
    } finally {
      this.#depth = 0;
      this.#poison = undefined;
    }
    this.#onCommit();
    this.#feed.deliver();
    this.#flush();
    return result;
  }

  /** Inside a transaction: `fn` after the outermost COMMIT (dropped on rollback). Outside: now. */
  afterCommit(fn: () => void): void {
    if (typeof fn !== "function") throw validation("afterCommit(fn): fn must be a function.");
    if (this.#depth > 0) this.#pending.push(fn);
    else fn();
  }

  /**
   * All-or-nothing for one store method: its own transaction, or a savepoint in the caller's
   * (rolled back alone, with its `afterCommit` callbacks and unpublished events, on a throw).
   */
  atomic<T>(fn: () => T): T {
    if (this.#depth === 0) return this.run(fn);
    const name = `promenade_${String(++this.#savepoints)}`;
    const mark = this.#pending.length;
    const published = this.#feed.mark();
    this.#db.exec(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = fn();
      this.#db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#db.exec(`ROLLBACK TO ${name}`);
      this.#db.exec(`RELEASE ${name}`);
      this.#pending.length = mark;
      this.#feed.discard(published);
      this.#onRollback();
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** After a single autocommitted statement: publish what it wrote, unless a transaction is open. */
  committed(): void {
    if (this.#depth > 0) return;
    this.#onCommit();
    this.#feed.deliver();
  }

  #flush(): void {
    const callbacks = this.#pending;
    this.#pending = [];
    let failure: unknown = undefined;
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        failure ??= error;
      }
    }
    // The data is committed; the first callback failure is still the caller's to see.
    if (failure !== undefined)
      throw failure instanceof Error ? failure : new Error(messageOf(failure));
  }
}

function checkSync<T>(result: T): T {
  if (
    typeof result === "object" &&
    result !== null &&
    typeof (result as { then?: unknown }).then === "function"
  ) {
    throw validation(
      "transaction(fn): fn returned a promise; store transactions are synchronous.",
      "Do the async work before or after the transaction, never inside it.",
    );
  }
  return result;
}

/** Engine errors pass through; anything else from SQLite becomes `INTERNAL`. */
export function wrapSqliteError(error: unknown, operation: string): unknown {
  if (isEngineError(error)) return error;
  const code = sqliteCode(error);
  if (code === undefined || !code.startsWith("SQLITE")) return error;
  return new EngineError(
    "INTERNAL",
    `Store ${operation} failed: ${messageOf(error)} (${code}).`,
    code === "SQLITE_FULL"
      ? "The disk is full; free space and retry."
      : "Check the data dir's disk and permissions; restore from a backup if the file is damaged.",
    { cause: error },
  );
}

/**
 * The event feed of the SQLite store: events written by a transaction wait in an outbox and
 * reach the listeners synchronously right after its COMMIT, each with its run's workflow id and
 * slug; a rollback (whole or to a savepoint) drops them unpublished. Writes made by a listener
 * queue behind the event in hand, so every listener sees events in commit order (per run:
 * increasing cursor order).
 */
import type { EventListener, PublishedEvent } from "@promenade/workflow/records";
import type { RunEvent } from "./internal/sdk.ts";

/** Where a run's events are routed: its workflow. */
export interface Route {
  workflowId: string;
  workflowSlug: string;
}

/** Cached run → workflow routes before the cache is emptied. */
const MAX_ROUTES = 10_000;

export class Feed {
  readonly #listeners = new Set<EventListener>();
  /** Events of the open transaction (or single write), published after its COMMIT. */
  #outbox: PublishedEvent[] = [];
  /** Committed events being handed out; re-entrant writes append here. */
  #queue: PublishedEvent[] = [];
  #delivering = false;
  /** runId → route; a run's workflow and a workflow's slug never change. */
  readonly #routes = new Map<string, Route>();
  readonly #lookup: (runId: string) => Route;
  readonly #onListenerError: ((error: unknown, row: PublishedEvent) => void) | undefined;

  /**
   * `lookup` reads a run's route (throws for an unknown run); `onListenerError` sees what a
   * listener throws (without it, listener errors are dropped).
   */
  constructor(
    lookup: (runId: string) => Route,
    onListenerError: ((error: unknown, row: PublishedEvent) => void) | undefined,
  ) {
    this.#lookup = lookup;
    this.#onListenerError = onListenerError;
  }

  /**
   * Adds a listener; returns its unsubscribe function. Each call is its own subscription (the
   * same function subscribed twice is called twice). A listener added while a transaction is
   * open receives the events that transaction writes after the call.
   */
  subscribe(listener: EventListener): () => void {
    const entry: EventListener = (row) => listener(row);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Remembers a run's route (a run just created: saves the lookup on its first events). */
  remember(runId: string, route: Route): void {
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(runId, route);
  }

  /**
   * Queues rows just written for publication after the COMMIT. Free while nobody listens: the
   * append hot path then pays nothing for the feed.
   */
  publish(runId: string, rows: readonly { cursor: number; event: RunEvent }[]): void {
    if (this.#listeners.size === 0 || rows.length === 0) return;
    let route = this.#routes.get(runId);
    if (route === undefined) {
      route = this.#lookup(runId);
      this.remember(runId, route);
    }
    for (const row of rows) {
      this.#outbox.push({
        runId,
        cursor: row.cursor,
        event: row.event,
        workflowId: route.workflowId,
        workflowSlug: route.workflowSlug,
      });
    }
  }

  /** The outbox position, to {@link discard} back to when a savepoint rolls back. */
  mark(): number {
    return this.#outbox.length;
  }

  /** Drops the events queued since `mark` (a rollback); `0` drops all of them. */
  discard(mark: number): void {
    this.#outbox.length = mark;
  }

  /**
   * Hands the committed outbox to the listeners. A listener's throw goes to `onListenerError`
   * and never reaches the writer nor the other listeners.
   */
  deliver(): void {
    if (this.#outbox.length === 0) return;
    const rows = this.#outbox;
    this.#outbox = [];
    for (const row of rows) this.#queue.push(row);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let index = 0; index < this.#queue.length; index++) {
        const row = this.#queue[index]!;
        for (const listener of this.#listeners) {
          try {
            listener(row);
          } catch (error) {
            this.#reportListenerError(error, row);
          }
        }
      }
    } finally {
      this.#queue = [];
      this.#delivering = false;
    }
  }

  #reportListenerError(error: unknown, row: PublishedEvent): void {
    try {
      this.#onListenerError?.(error, row);
    } catch {
      // The hook's own failure is dropped: the event is committed and the others must get it.
    }
  }
}

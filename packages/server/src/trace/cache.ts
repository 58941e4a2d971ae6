/**
 * `TraceCache`: the trace builders of recently read runs, so reading a live run's trace again
 * only consumes the events committed since the last read. Event logs are append-only with
 * increasing cursors, so a cached builder never goes stale; least recently read runs are evicted.
 * Work on one run is serialised (two concurrent reads never feed the same builder at once).
 */
import { TraceBuilder } from "./builder.ts";

interface Entry {
  builder: TraceBuilder;
  queue: Promise<unknown>;
}

/** Least-recently-read cache of {@link TraceBuilder}s. */
export class TraceCache {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;

  constructor(capacity = 64) {
    this.capacity = capacity;
  }

  /** Runs `work` with the run's builder once every earlier call for that run has settled. */
  use<T>(runId: string, work: (builder: TraceBuilder) => Promise<T>): Promise<T> {
    let entry = this.entries.get(runId);
    if (entry === undefined) {
      entry = { builder: new TraceBuilder(runId), queue: Promise.resolve() };
    } else {
      this.entries.delete(runId);
    }
    this.entries.set(runId, entry);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const current = entry;
    const result = current.queue.then(() => work(current.builder));
    current.queue = result.catch(() => undefined);
    return result;
  }

  /** Runs cached now. */
  get size(): number {
    return this.entries.size;
  }
}

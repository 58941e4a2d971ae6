/**
 * The boot queue: run processes are created off the caller's path, a bounded number booting at
 * once. A start is queued and returns at once; the queue starts the queued boots one per turn of
 * the event loop (a synchronous `spawn()` of a large parent costs milliseconds, and whatever else
 * the engine has to do runs between two of them), in arrival order, while fewer than `limit` are
 * booting. A boot ends when its starter calls its `release` (the process said it is ready, or it
 * is gone). Background boots (the warm pool's refills) start only when no start is waiting.
 *
 * Invariants: a queued start is started exactly once or dropped exactly once (cancelled, or the
 * queue closed), never both; starts begin in the order they were queued; at most `limit` boots are
 * in progress (released or not) at any moment; nothing starts after `close()`.
 */

/**
 * How long a process may hold its boot slot without saying it is ready (a run-process entry that
 * never sends `ready`, a boot stuck on a slow disk): its starter frees the slot then anyway, so
 * one hung boot cannot stop every later run from starting.
 */
export const BOOT_SLOT_MS = 10_000;

/** Called when a boot may begin; `release` (idempotent) ends the boot and frees its slot. */
export type BootStart = (release: () => void) => void;

/** A queued boot. */
export interface BootTicket {
  /** Removes the boot before it began: `true` if it was still waiting (it will never start). */
  cancel(): boolean;
}

/** Options of {@link BootQueue}. */
export interface BootQueueOptions {
  /** Boots in progress at once (integer ≥ 1). */
  limit: number;
  /** Runs `fn` on a later turn of the event loop. Default `setImmediate`. */
  defer?: (fn: () => void) => void;
}

interface Waiting {
  start: BootStart;
  /** Called instead of `start` when the queue closes first. */
  dropped: () => void;
  done: boolean;
}

/** A FIFO of process boots with a bound on how many are in progress. */
export class BootQueue {
  private readonly limit: number;
  private readonly defer: (fn: () => void) => void;
  private readonly waiting: Waiting[] = [];
  private readonly background: Waiting[] = [];
  private inProgress = 0;
  private scheduled = false;
  private closed = false;

  constructor(options: BootQueueOptions) {
    this.limit = options.limit;
    this.defer = options.defer ?? ((fn) => void setImmediate(fn));
  }

  /** Boots waiting for their turn (starts only, not background boots). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Boots begun and not yet released. */
  get booting(): number {
    return this.inProgress;
  }

  /**
   * Queues a start: `start` is called on a later turn, after every start queued before it. When
   * the queue closes first, `dropped` is called instead.
   */
  enqueue(start: BootStart, dropped: () => void): BootTicket {
    return this.push(this.waiting, start, dropped);
  }

  /**
   * Queues a background boot: like {@link enqueue}, but it begins only when no start is waiting
   * and a slot is free, so it never delays a start already queued.
   */
  whenIdle(start: BootStart, dropped: () => void): BootTicket {
    return this.push(this.background, start, dropped);
  }

  /** Nothing starts any more; every waiting boot is dropped (its `dropped` called) now. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const left = [...this.waiting, ...this.background];
    this.waiting.length = 0;
    this.background.length = 0;
    for (const entry of left) {
      if (entry.done) continue;
      entry.done = true;
      entry.dropped();
    }
  }

  private push(lane: Waiting[], start: BootStart, dropped: () => void): BootTicket {
    const entry: Waiting = { start, dropped, done: false };
    if (this.closed) {
      entry.done = true;
      this.defer(dropped);
      return { cancel: () => false };
    }
    lane.push(entry);
    this.schedule();
    return {
      cancel: () => {
        if (entry.done) return false;
        entry.done = true;
        const index = lane.indexOf(entry);
        if (index >= 0) lane.splice(index, 1);
        return true;
      },
    };
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    if (this.inProgress >= this.limit) return;
    if (this.waiting.length === 0 && this.background.length === 0) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.beginNext();
      this.schedule();
    });
  }

  /** Begins one boot: the oldest start, or a background boot when no start waits. */
  private beginNext(): void {
    if (this.closed || this.inProgress >= this.limit) return;
    const entry = this.waiting.shift() ?? this.background.shift();
    if (entry === undefined) return;
    entry.done = true;
    this.inProgress += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.inProgress -= 1;
      this.schedule();
    };
    try {
      entry.start(release);
    } catch {
      // The starter failed before handing the boot anything to wait for: its slot is free.
      release();
    }
  }
}

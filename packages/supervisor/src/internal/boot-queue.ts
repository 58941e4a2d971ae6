/**
 * The boot queue: run processes are created off the caller's path, a bounded number booting at
 * once. A start is queued and returns at once; the queue starts the queued boots one per turn of
 * the event loop (a synchronous `spawn()` of a large parent costs milliseconds, and whatever else
 * the engine has to do runs between two of them), in arrival order, while fewer than `limit` are
 * booting. A boot ends when its starter calls its `release` (the process said it is ready, or it
 * is gone). Background boots (the warm pool's refills) start only when no start is waiting, no
 * run is starting or finishing, and none has for a quiet period (see {@link BootQueue.hold}): a
 * spawn blocks the engine's event loop, and inside a run's start or finish it delays that run.
 *
 * A start about to be queued (its run directory still being laid out) is announced
 * ({@link BootQueue.announce}): no background boot begins while one is, so a refill never takes
 * the slot that start is coming for.
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
  /**
   * How long after the last run start or finish a background boot may begin (ms). Default
   * {@link QUIET_MS}.
   */
  quietMs?: number;
  /**
   * The longest a background boot waits for a quiet moment (ms), so a pool still refills under a
   * steady stream of runs. Default {@link MAX_QUIET_WAIT_MS}.
   */
  maxQuietWaitMs?: number;
}

/** Default quiet period before a background boot. */
export const QUIET_MS = 20;
/** Default longest wait of a background boot for a quiet moment. */
export const MAX_QUIET_WAIT_MS = 1_000;

interface Waiting {
  start: BootStart;
  /** Called instead of `start` when the queue closes first. */
  dropped: () => void;
  done: boolean;
  /** When it was queued (`Date.now()`). */
  queuedAt: number;
  /** Background boots: whether it may still wait for a quiet moment (default: yes). */
  mayWait?: () => boolean;
}

/** A FIFO of process boots with a bound on how many are in progress. */
export class BootQueue {
  private readonly limit: number;
  private readonly defer: (fn: () => void) => void;
  private readonly waiting: Waiting[] = [];
  private readonly background: Waiting[] = [];
  private readonly quietMs: number;
  private readonly maxQuietWaitMs: number;
  private inProgress = 0;
  private scheduled = false;
  private closed = false;
  /** Runs starting or finishing now; see {@link hold}. */
  private held = 0;
  /** Starts about to be queued; see {@link announce}. */
  private announced = 0;
  /** When the last of them was done (`Date.now()`). */
  private lastBusy = Number.NEGATIVE_INFINITY;
  /** The timer that looks again once a background boot's quiet moment has come. */
  private quietTimer: NodeJS.Timeout | undefined;
  /** When that timer fires (`Date.now()`). */
  private quietTimerAt = 0;

  constructor(options: BootQueueOptions) {
    this.limit = options.limit;
    this.defer = options.defer ?? ((fn) => void setImmediate(fn));
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.maxQuietWaitMs = options.maxQuietWaitMs ?? MAX_QUIET_WAIT_MS;
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
   * and a slot is free, so it never delays a start already queued — and, while `mayWait()` says
   * so, only at a quiet moment (see {@link hold}).
   */
  whenIdle(start: BootStart, dropped: () => void, mayWait?: () => boolean): BootTicket {
    return this.push(this.background, start, dropped, mayWait);
  }

  /** What a background boot's `mayWait` says may have changed: look again. */
  recheck(): void {
    this.schedule();
  }

  /**
   * A run is starting or finishing: background boots wait until no run is and none has for the
   * quiet period (or until they have waited the longest allowed). Returns the (idempotent) call
   * that says this one is done.
   */
  hold(): () => void {
    this.held += 1;
    return once(() => {
      this.held -= 1;
      this.lastBusy = Date.now();
      this.schedule();
    });
  }

  /**
   * A start will be queued soon: no background boot begins until the returned (idempotent) call
   * says the wait is over (the start was queued, or will not be).
   */
  announce(): () => void {
    this.announced += 1;
    return once(() => {
      this.announced -= 1;
      this.schedule();
    });
  }

  /** Nothing starts any more; every waiting boot is dropped (its `dropped` called) now. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    const left = [...this.waiting, ...this.background];
    this.waiting.length = 0;
    this.background.length = 0;
    for (const entry of left) {
      if (entry.done) continue;
      entry.done = true;
      entry.dropped();
    }
  }

  private push(
    lane: Waiting[],
    start: BootStart,
    dropped: () => void,
    mayWait?: () => boolean,
  ): BootTicket {
    const entry: Waiting = { start, dropped, done: false, queuedAt: Date.now() };
    if (mayWait !== undefined) entry.mayWait = mayWait;
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
    if (this.waiting.length === 0) {
      const next = this.background[0];
      if (next === undefined || this.announced > 0) return;
      const at = this.quietAt(next);
      const wait = at - Date.now();
      if (wait > 0) {
        // Not quiet yet: look again then (a start queued meanwhile schedules itself).
        if (this.quietTimer === undefined || at < this.quietTimerAt) {
          clearTimeout(this.quietTimer);
          this.quietTimerAt = at;
          this.quietTimer = setTimeout(() => {
            this.quietTimer = undefined;
            this.schedule();
          }, wait);
          this.quietTimer.unref();
        }
        return;
      }
    }
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      this.beginNext();
      this.schedule();
    });
  }

  /**
   * When background boot `entry` may begin: a quiet period after the last run start or finish
   * (none in progress), or at the end of its longest wait.
   */
  private quietAt(entry: Waiting): number {
    if (entry.mayWait?.() === false) return Number.NEGATIVE_INFINITY;
    const latest = entry.queuedAt + this.maxQuietWaitMs;
    return this.held > 0 ? latest : Math.min(this.lastBusy + this.quietMs, latest);
  }

  /** Begins one boot: the oldest start, or a background boot when no start waits (and quiet). */
  private beginNext(): void {
    if (this.closed || this.inProgress >= this.limit) return;
    const background = this.background[0];
    const quiet =
      background !== undefined && this.announced === 0 && Date.now() >= this.quietAt(background);
    const entry = this.waiting.shift() ?? (quiet ? this.background.shift() : undefined);
    if (entry === undefined) return;
    entry.done = true;
    this.inProgress += 1;
    const release = once(() => {
      this.inProgress -= 1;
      this.schedule();
    });
    try {
      entry.start(release);
    } catch {
      // The starter failed before handing the boot anything to wait for: its slot is free.
      release();
    }
  }
}

/** A call that runs `fn` the first time and does nothing after (the queue's idempotent releases). */
function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

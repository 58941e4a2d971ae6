/**
 * WAL checkpoints at quiet moments. SQLite copies the write-ahead log back into the database
 * inside whichever commit makes the log cross its threshold, so under a steady stream of writes
 * (a burst of runs starting) every few hundred commits one of them also pays for a checkpoint:
 * two fsyncs and the copy, milliseconds on the engine's only thread. Here the store checkpoints
 * once writes have paused, and SQLite's own threshold is raised to a bound it still enforces
 * when writes never pause.
 */
import type Database from "better-sqlite3";

/** How long writes must have paused before the log is checkpointed. */
export const QUIET_MS = 250;

/**
 * SQLite's own checkpoint threshold, in pages of log (16 MiB at the default 4 KiB page): the
 * bound on the log under writes that never pause. 100 trivial runs write about 3,000 pages (the
 * default threshold of 1,000 took three checkpoints during them).
 */
export const WAL_BOUND_PAGES = 4096;

export class QuietCheckpoints {
  readonly #db: Database.Database;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #lastWrite = 0;

  constructor(db: Database.Database) {
    this.#db = db;
    db.pragma(`wal_autocheckpoint = ${String(WAL_BOUND_PAGES)}`);
  }

  /** A commit went into the log: checkpoint once no other has followed it for a while. */
  wrote(): void {
    this.#lastWrite = performance.now();
    // One timer per quiet period, not one per commit: when it fires early it waits the rest.
    if (this.#timer === undefined) this.#arm(QUIET_MS);
  }

  /** Before the connection closes (closing checkpoints by itself). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#due(), ms);
    // A pending checkpoint never keeps the process alive: the log is durable as it is.
    this.#timer.unref();
  }

  #due(): void {
    this.#timer = undefined;
    const quietFor = performance.now() - this.#lastWrite;
    if (quietFor < QUIET_MS) {
      this.#arm(Math.max(1, QUIET_MS - quietFor));
      return;
    }
    try {
      // PASSIVE never waits; this connection holds the file exclusively, so it copies the
      // whole log and the next commit starts the log over from its beginning.
      this.#db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // Nothing is lost: the commits stay in the log, the next commit arms another attempt,
      // and a disk that keeps failing fails that commit, where the caller sees the error.
    }
  }
}

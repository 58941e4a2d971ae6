/**
 * Cursor allocation for one stamping owner. A fresh envelope resumes
 * in the block after the highest persisted cursor; `turn_started` opens a new block; a block that
 * would reach the stride rolls over instead of failing. Cursors are strictly increasing.
 */
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";

/** Mutable `{ block, seq }` position; `next()` hands out the next cursor. */
export class Envelope {
  block: number;
  seq: number;

  constructor(block: number, seq: number) {
    this.block = block;
    this.seq = seq;
  }

  /** The envelope of a new owner: block 0 for a run without events, else the next block. */
  static resume(maxCursor: number): Envelope {
    if (maxCursor <= 0) return new Envelope(0, 0);
    return new Envelope(Math.floor(maxCursor / TURN_CURSOR_STRIDE) + 1, 0);
  }

  /** Advances and returns `{ cursor, seq }` for the next stamped event. */
  next(): { cursor: number; seq: number } {
    this.seq += 1;
    if (this.seq >= TURN_CURSOR_STRIDE) {
      this.block += 1;
      this.seq = 1;
    }
    return { cursor: this.block * TURN_CURSOR_STRIDE + this.seq, seq: this.seq };
  }

  /** Opens a new block (before a `turn_started`). */
  newBlock(): void {
    this.block += 1;
    this.seq = 0;
  }
}

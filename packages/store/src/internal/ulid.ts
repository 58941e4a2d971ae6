/**
 * Monotonic ULIDs: 48-bit ms timestamp + 80 random bits in Crockford base32.
 * Within one generator ids strictly increase, also within one millisecond and when the clock
 * steps backwards (the last timestamp is kept and the random part incremented).
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Returns a function producing strictly increasing ULIDs stamped with `now()`. */
export function createUlidFactory(now: () => number): () => string {
  let lastTime = -1;
  const random: number[] = new Array<number>(16).fill(0);
  return () => {
    let time = Math.floor(now());
    if (!Number.isSafeInteger(time) || time < 0 || time > 0xffff_ffff_ffff) {
      throw new RangeError(`ULID time must be an integer in [0, 2^48), got ${String(time)}`);
    }
    if (time <= lastTime) {
      time = lastTime;
      let index = 15;
      while (index >= 0 && random[index] === 31) random[index--] = 0;
      if (index < 0) throw new RangeError("ULID random part overflowed within one millisecond");
      random[index] = (random[index] ?? 0) + 1;
    } else {
      lastTime = time;
      const bytes = randomBytes(16);
      // The top bit of the first random character stays clear, leaving 2^79 increments.
      for (let index = 0; index < 16; index++) random[index] = (bytes[index] ?? 0) & 31;
      random[0] = (random[0] ?? 0) & 15;
    }
    let head = "";
    let rest = time;
    for (let index = 0; index < 10; index++) {
      head = ALPHABET.charAt(rest % 32) + head;
      rest = Math.floor(rest / 32);
    }
    let tail = "";
    for (const digit of random) tail += ALPHABET.charAt(digit);
    return head + tail;
  };
}

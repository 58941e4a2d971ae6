/**
 * The maybe-sync helpers: plain in, plain out (no promise, no microtask), so a consumer over the
 * SQLite store finishes before it returns; a promise anywhere, a promise out, with the same order
 * of effects and the same error routing. If these slip, `engine.tick()` stops being synchronous
 * or an async store's rejection escapes its handler.
 */
import { describe, expect, it } from "vitest";
import { always, andThen, attempt, each, isPromiseLike, repeat } from "./awaitable.ts";

const later = <T>(value: T): Promise<T> =>
  new Promise((resolve) => setImmediate(() => resolve(value)));
const failLater = (message: string): Promise<never> =>
  new Promise((_resolve, reject) => setImmediate(() => reject(new Error(message))));

describe("isPromiseLike", () => {
  it("tells promises and thenables from plain values, including null and functions", () => {
    expect(isPromiseLike(Promise.resolve(1))).toBe(true);
    expect(isPromiseLike({ then: () => undefined } as unknown as Promise<void>)).toBe(true);
    for (const plain of [null, undefined, 0, "x", [], {}, () => 1, { then: 1 }]) {
      expect(isPromiseLike(plain)).toBe(false);
    }
  });
});

describe("andThen", () => {
  it("continues in the same call stack for a plain value", () => {
    const seen: string[] = [];
    const result = andThen(2, (n) => {
      seen.push("inside");
      return n * 3;
    });
    seen.push("after");
    expect(result).toBe(6);
    expect(seen).toEqual(["inside", "after"]);
  });

  it("continues after resolution for a promise, and passes a rejection on untouched", async () => {
    const result = andThen(later(2), (n) => n * 3);
    expect(isPromiseLike(result)).toBe(true);
    await expect(result).resolves.toBe(6);
    let called = false;
    await expect(
      andThen(failLater("db down"), () => {
        called = true;
      }),
    ).rejects.toThrow("db down");
    expect(called).toBe(false);
  });

  it("keeps a synchronous throw synchronous", () => {
    expect(() =>
      andThen(1, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
  });
});

describe("attempt", () => {
  it("routes a synchronous throw to the handler and stays synchronous", () => {
    const result = attempt(
      () => {
        throw new Error("closed");
      },
      (error) => `handled ${(error as Error).message}`,
    );
    expect(result).toBe("handled closed");
  });

  it("routes a rejection to the same handler", async () => {
    await expect(
      attempt(
        () => failLater("refused"),
        (error) => `handled ${(error as Error).message}`,
      ),
    ).resolves.toBe("handled refused");
  });

  it("leaves a success alone, plain or promised", async () => {
    expect(
      attempt(
        () => 1,
        () => 2,
      ),
    ).toBe(1);
    await expect(
      attempt(
        () => later(1),
        () => 2,
      ),
    ).resolves.toBe(1);
  });
});

describe("always", () => {
  it("cleans up right after a plain result and after a synchronous throw", () => {
    const seen: string[] = [];
    expect(
      always(
        () => (seen.push("fn"), 1),
        () => seen.push("cleanup"),
      ),
    ).toBe(1);
    expect(() =>
      always(
        () => {
          throw new Error("x");
        },
        () => seen.push("cleanup"),
      ),
    ).toThrow("x");
    expect(seen).toEqual(["fn", "cleanup", "cleanup"]);
  });

  it("cleans up only after a promise settles, and passes its outcome through", async () => {
    let cleaned = 0;
    const ok = always(
      () => later("v"),
      () => (cleaned += 1),
    );
    expect(cleaned).toBe(0);
    await expect(ok).resolves.toBe("v");
    expect(cleaned).toBe(1);
    await expect(
      always(
        () => failLater("gone"),
        () => (cleaned += 1),
      ),
    ).rejects.toThrow("gone");
    expect(cleaned).toBe(2);
  });
});

describe("repeat", () => {
  it("loops synchronously, without growing the stack, while every step is plain", () => {
    let n = 0;
    const result = repeat(() => ++n < 100_000);
    expect(result).toBeUndefined();
    expect(n).toBe(100_000);
  });

  it("switches to an async loop at the first promise and runs steps strictly one after another", async () => {
    let n = 0;
    let running = 0;
    let overlap = false;
    const result = repeat(() => {
      running += 1;
      if (running > 1) overlap = true;
      n += 1;
      const more = n < 6;
      if (n % 2 === 0) {
        return later(more).then((value) => {
          running -= 1;
          return value;
        });
      }
      running -= 1;
      return more;
    });
    expect(isPromiseLike(result)).toBe(true);
    expect(n).toBe(2); // stopped at the first promise
    await result;
    expect(n).toBe(6);
    expect(overlap).toBe(false);
  });

  it("rejects when a step rejects, and stops", async () => {
    let n = 0;
    await expect(
      repeat(() => {
        n += 1;
        return n === 3 ? failLater("stop") : later(true);
      }),
    ).rejects.toThrow("stop");
    expect(n).toBe(3);
  });
});

describe("each", () => {
  it("visits items in order synchronously when every call is plain", () => {
    const seen: number[] = [];
    const result = each([1, 2, 3], (item) => {
      seen.push(item);
    });
    expect(result).toBeUndefined();
    expect(seen).toEqual([1, 2, 3]);
  });

  it("waits for each promised call before the next, mixing plain and promised calls", async () => {
    const seen: string[] = [];
    const result = each([1, 2, 3, 4], (item) => {
      seen.push(`start ${item}`);
      if (item % 2 === 1) return;
      return later(undefined).then(() => void seen.push(`end ${item}`));
    });
    await result;
    expect(seen).toEqual(["start 1", "start 2", "end 2", "start 3", "start 4", "end 4"]);
  });

  it("stops at the first failure, synchronous or not", async () => {
    const seen: number[] = [];
    expect(() =>
      each([1, 2, 3], (item) => {
        seen.push(item);
        if (item === 2) throw new Error("two");
      }),
    ).toThrow("two");
    expect(seen).toEqual([1, 2]);
    await expect(
      each([1, 2, 3], (item) => (item === 2 ? failLater("async two") : later(undefined))),
    ).rejects.toThrow("async two");
  });

  it("accepts any iterable, including an empty one", () => {
    expect(each(new Set<number>(), () => undefined)).toBeUndefined();
    const seen: string[] = [];
    expect(each(new Map([["a", 1]]).keys(), (key) => void seen.push(key))).toBeUndefined();
    expect(seen).toEqual(["a"]);
  });
});

// The memory of accepted webhook deliveries. What would break: a replay accepted because its
// key was forgotten early, a legitimate retry refused forever because an expired key was still
// reported, or memory growing without bound under a flood of valid deliveries.
import { describe, expect, it } from "vitest";
import { ReplayCache } from "./replay-cache.ts";

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("ReplayCache", () => {
  it("refuses a key again until it expires, then accepts it", () => {
    const time = clock();
    const cache = new ReplayCache({ maxEntries: 10, now: time.now });
    expect(cache.admit(["a"], time.now() + 1000)).not.toBeNull();
    expect(cache.admit(["a"], time.now() + 1000)).toBeNull();
    time.advance(999);
    expect(cache.admit(["a"], time.now() + 1000)).toBeNull();
    time.advance(1);
    expect(cache.admit(["a"], time.now() + 1000)).not.toBeNull();
  });

  it("admits a group all-or-nothing: one remembered key refuses the whole group", () => {
    const time = clock();
    const cache = new ReplayCache({ maxEntries: 10, now: time.now });
    cache.admit(["signature-1", "delivery-1"], time.now() + 1000);
    expect(cache.admit(["signature-2", "delivery-1"], time.now() + 1000)).toBeNull();
    expect(cache.admit(["signature-2"], time.now() + 1000)).not.toBeNull();
  });

  it("forgets a group when released, so a retry is accepted", () => {
    const time = clock();
    const cache = new ReplayCache({ maxEntries: 10, now: time.now });
    const release = cache.admit(["a", "b"], time.now() + 1000);
    release?.();
    expect(cache.size).toBe(0);
    expect(cache.admit(["a", "b"], time.now() + 1000)).not.toBeNull();
  });

  it("holds at most maxEntries keys, forgetting the oldest first", () => {
    const time = clock();
    const cache = new ReplayCache({ maxEntries: 3, now: time.now });
    for (const key of ["k1", "k2", "k3", "k4"]) cache.admit([key], time.now() + 60_000);
    expect(cache.size).toBe(3);
    expect(cache.admit(["k1"], time.now() + 60_000)).not.toBeNull();
    expect(cache.admit(["k4"], time.now() + 60_000)).toBeNull();
  });

  it("drops expired keys as new ones arrive", () => {
    const time = clock();
    const cache = new ReplayCache({ maxEntries: 100, now: time.now });
    for (let i = 0; i < 50; i++) cache.admit([`old-${String(i)}`], time.now() + 10);
    time.advance(10);
    cache.admit(["new"], time.now() + 10);
    expect(cache.size).toBe(1);
  });
});

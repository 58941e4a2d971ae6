/** The manual clock: time moves only when the test moves it, and sleeps wake by their deadline. */
import { describe, expect, it } from "vitest";
import { createManualClock } from "./manual-clock.ts";

describe("createManualClock", () => {
  it("starts at the given instant (default 2026-01-01T00:00:00Z) and moves only when told", () => {
    expect(createManualClock().now()).toBe(Date.UTC(2026, 0, 1));
    const clock = createManualClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.advance(-100);
    expect(clock.now()).toBe(1500);
    clock.set(200);
    expect(clock.now()).toBe(200);
  });

  it("wakes sleeps once their deadline is reached, in deadline order", async () => {
    const clock = createManualClock(0);
    const woke: string[] = [];
    const late = clock.sleep(300).then(() => woke.push("late"));
    const early = clock.sleep(100).then(() => woke.push("early"));
    const later = clock.sleep(1000).then(() => woke.push("later"));
    expect(clock.pendingSleeps()).toBe(3);
    clock.advance(99);
    await Promise.resolve();
    expect(woke).toEqual([]);
    clock.advance(201);
    await Promise.all([early, late]);
    expect(woke).toEqual(["early", "late"]);
    expect(clock.pendingSleeps()).toBe(1);
    clock.set(1000);
    await later;
    expect(woke).toEqual(["early", "late", "later"]);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it("resolves a sleep that is already due at once", async () => {
    const clock = createManualClock(0);
    await expect(clock.sleep(0)).resolves.toBeUndefined();
    await expect(clock.sleep(-5)).resolves.toBeUndefined();
    expect(clock.pendingSleeps()).toBe(0);
  });

  it("rejects an aborted sleep and forgets it", async () => {
    const clock = createManualClock(0);
    const controller = new AbortController();
    const reason = new Error("stopping");
    const pending = clock.sleep(100, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(clock.pendingSleeps()).toBe(0);
    await expect(clock.sleep(100, controller.signal)).rejects.toBe(reason);
  });
});

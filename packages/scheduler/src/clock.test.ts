/** The default clock: a sleep must end early when its signal aborts, or `stop()` would hang. */
import { describe, expect, it } from "vitest";
import { wallClock } from "./clock.ts";

describe("wallClock", () => {
  it("reads Date.now", () => {
    const before = Date.now();
    const now = wallClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("resolves a zero sleep and rejects when the signal aborts", async () => {
    await expect(wallClock.sleep(0)).resolves.toBeUndefined();
    const controller = new AbortController();
    const pending = wallClock.sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect(wallClock.sleep(10, controller.signal)).rejects.toThrow();
  });
});

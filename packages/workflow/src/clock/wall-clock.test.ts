/** The default clock: a sleep must end early when its signal aborts, or a `stop()` would hang. */
import { describe, expect, it } from "vitest";
import { isEngineError } from "../errors/index.ts";
import { wallClock } from "./wall-clock.ts";

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

  it("rejects with the abort reason when it is an Error, else with an INTERNAL engine error", async () => {
    const reason = new Error("stopping");
    const withReason = new AbortController();
    const pending = wallClock.sleep(60_000, withReason.signal);
    withReason.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const withValue = new AbortController();
    withValue.abort("not an error");
    const error: unknown = await wallClock.sleep(10, withValue.signal).catch((err: unknown) => err);
    expect(isEngineError(error) && error.code === "INTERNAL").toBe(true);
  });
});

/** The tool-turn cap of one `agent()` leaf: `maxIterations` when usable, 500 otherwise. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_ITERATIONS, iterationCap } from "./loop.ts";

describe("iterationCap", () => {
  it("defaults to 500 tool-calling turns", () => {
    expect(DEFAULT_MAX_ITERATIONS).toBe(500);
    expect(iterationCap(undefined)).toBe(500);
  });

  it("takes a positive integer as given", () => {
    expect(iterationCap(1)).toBe(1);
    expect(iterationCap(2)).toBe(2);
    expect(iterationCap(1000)).toBe(1000);
  });

  it("ignores non-integers, values below 1 and non-numbers", () => {
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "3", null, {}]) {
      expect(iterationCap(value)).toBe(500);
    }
  });
});

// The engine's input/config check. What would break: a run input nested 10,000 levels deep
// overflowing a recursive walk (a RangeError surfacing as INTERNAL), or one nested past the
// 256-level limit being accepted and failing later inside a store write.
import { describe, expect, it } from "vitest";
import { jsonProblem } from "./json.ts";

function nestedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe("jsonProblem", () => {
  it("accepts plain JSON up to 256 levels deep", () => {
    expect(jsonProblem({ a: [1, "x", true, null, { b: 2.5 }] }, "input")).toBeNull();
    expect(jsonProblem(nestedArrays(255), "input")).toBeNull();
    expect(jsonProblem(nestedArrays(256), "input")).toBeNull();
    expect(jsonProblem(Object.create(null) as object, "input")).toBeNull();
  });

  it("refuses 257, 10,000 and 400,000 levels, naming the limit and the path", () => {
    expect(jsonProblem(nestedArrays(257), "input")).toBe(
      "input nests deeper than the 256-level JSON depth limit at input[0][0][0][0][0][0][0][0]…[0][0]",
    );
    expect(jsonProblem(nestedArrays(10_000), "input")).toMatch(/256-level JSON depth limit/);
    expect(jsonProblem(nestedArrays(400_000), "config")).toMatch(/^config nests deeper/);
  });

  it("names the first value that is not JSON", () => {
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic["list"] as unknown[]).push(cyclic);
    expect(jsonProblem(cyclic, "input")).toBe("input.list[0] is a circular reference");
    expect(jsonProblem({ n: Number.NaN }, "input")).toBe("input.n is a non-finite number");
    expect(jsonProblem({ f: () => 1 }, "input")).toBe("input.f is a function, which is not JSON");
    expect(jsonProblem({ u: undefined }, "input")).toBe(
      "input.u is a undefined, which is not JSON",
    );
    expect(jsonProblem([1, , 3], "input")).toBe("input[1] is an array hole"); // eslint-disable-line no-sparse-arrays
    expect(jsonProblem({ when: new Date(0) }, "input")).toBe(
      "input.when is a class instance, not a plain object",
    );
  });

  it("accepts a value shared by siblings (only ancestors make a cycle)", () => {
    const shared = { x: 1 };
    expect(jsonProblem({ a: shared, b: [shared, shared] }, "input")).toBeNull();
  });
});

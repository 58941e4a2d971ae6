/**
 * The small pure helpers every write depends on: ULIDs must sort in creation order within one
 * process even in one millisecond or when the clock steps back (run ids are compared as
 * strings by consumers), and the JSON check must name the first non-JSON value it meets.
 */
import { describe, expect, it } from "vitest";
import { jsonProblem } from "./json.ts";
import { createUlidFactory } from "./ulid.ts";

describe("createUlidFactory", () => {
  it("produces 26-character Crockford ids that strictly increase within one millisecond and across a clock step back", () => {
    let now = Date.UTC(2026, 5, 1);
    const next = createUlidFactory(() => now);
    const ids = [next(), next(), next()];
    now -= 5_000;
    ids.push(next(), next());
    now += 10_000;
    ids.push(next());
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("encodes the timestamp in the first 10 characters", () => {
    const next = createUlidFactory(() => 1_469_918_176_385);
    expect(next().slice(0, 10)).toBe("01ARYZ6S41");
  });

  it("rejects a clock that returns a non-integer or negative time", () => {
    expect(() => createUlidFactory(() => Number.NaN)()).toThrow(RangeError);
    expect(() => createUlidFactory(() => -1)()).toThrow(RangeError);
  });
});

describe("jsonProblem", () => {
  it("accepts plain JSON trees, including null-prototype objects and undefined properties", () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = [1, "two", true, null, { b: -0 }];
    expect(jsonProblem(bare)).toBeNull();
    expect(jsonProblem({ dropped: undefined, kept: 1 })).toBeNull();
    const shared = { x: 1 };
    expect(jsonProblem([shared, shared])).toBeNull();
  });

  it("names the path of the first non-JSON value", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonProblem({ a: [1, () => 1] })).toBe("$.a[1]: function is not JSON");
    expect(jsonProblem({ n: Number.POSITIVE_INFINITY })).toBe(
      "$.n: Infinity is not a finite number",
    );
    expect(jsonProblem({ when: new Date(0) })).toBe("$.when: Date is not a plain JSON object");
    expect(jsonProblem(cyclic)).toBe("$.self: circular reference");
    expect(jsonProblem([1, , 3])).toBe("$[1]: undefined is not JSON"); // eslint-disable-line no-sparse-arrays
    expect(jsonProblem(10n)).toBe("$: bigint is not JSON");
    expect(jsonProblem(new Map())).toBe("$: Map is not a plain JSON object");
  });
});

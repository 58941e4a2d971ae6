// The JSON depth rule. What would break without it: a hostile body nested 400,000 levels reaching
// a recursive walker (a RangeError, an INTERNAL 500), or a value nested past SQLite's 1,000-level
// JSON ceiling being accepted and failing later, inside a store write.
import { describe, expect, it } from "vitest";
import {
  formatJsonPath,
  jsonDepthProblem,
  jsonTextDepthProblem,
  MAX_JSON_DEPTH,
  tooDeepMessage,
} from "./index.ts";

const arraysText = (levels: number): string => "[".repeat(levels) + "]".repeat(levels);
const objectsText = (levels: number): string => '{"a":'.repeat(levels) + "1" + "}".repeat(levels);

/** A value nested `levels` arrays deep, built without recursion. */
function nestedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

describe("MAX_JSON_DEPTH", () => {
  it("is 256 levels", () => {
    expect(MAX_JSON_DEPTH).toBe(256);
  });
});

describe("jsonTextDepthProblem", () => {
  it("accepts text up to the limit and refuses one level past it", () => {
    expect(jsonTextDepthProblem(arraysText(255))).toBeNull();
    expect(jsonTextDepthProblem(arraysText(256))).toBeNull();
    expect(jsonTextDepthProblem(objectsText(256))).toBeNull();
    expect(jsonTextDepthProblem(arraysText(257))).toEqual({
      path: "$[0][0][0][0][0][0][0][0]…[0][0]",
      maxDepth: 256,
    });
    expect(jsonTextDepthProblem(objectsText(257))?.path).toBe("$.a.a.a.a.a.a.a.a….a.a");
  });

  it("refuses 10,000 and 400,000 levels without overflowing the stack", () => {
    expect(jsonTextDepthProblem(arraysText(10_000))?.maxDepth).toBe(256);
    expect(jsonTextDepthProblem(arraysText(400_000))?.maxDepth).toBe(256);
    expect(jsonTextDepthProblem("[".repeat(400_000))?.maxDepth).toBe(256);
  });

  it("ignores brackets, quotes and escapes inside strings", () => {
    const inside = JSON.stringify({ text: "[".repeat(1000) + '\\"{{' + "\\".repeat(3) });
    expect(jsonTextDepthProblem(inside)).toBeNull();
    expect(jsonTextDepthProblem(`["\\\\", ${arraysText(256)}]`)?.path).toMatch(/^\$\[1\]/);
  });

  it("names the keys and indices on the way down", () => {
    const text = `{"list":[0,1,{"odd key":${arraysText(3)}}]}`;
    expect(jsonTextDepthProblem(text, { maxDepth: 4 })).toEqual({
      path: '$.list[2]["odd key"][0]',
      maxDepth: 4,
    });
  });

  it("allows the caller's envelope levels on top of the limit", () => {
    const body = (levels: number): string => `{"input":${arraysText(levels)}}`;
    expect(jsonTextDepthProblem(body(256), { envelopeLevels: 1 })).toBeNull();
    expect(jsonTextDepthProblem(body(257), { envelopeLevels: 1 })?.path).toMatch(/^\$\.input\[0\]/);
  });

  it("leaves text that is not JSON to the parser", () => {
    expect(jsonTextDepthProblem('["unterminated')).toBeNull();
    expect(jsonTextDepthProblem("]]]}}")).toBeNull();
    expect(jsonTextDepthProblem("")).toBeNull();
  });
});

describe("jsonDepthProblem", () => {
  it("accepts values up to the limit and refuses one level past it", () => {
    expect(jsonDepthProblem(nestedArrays(255))).toBeNull();
    expect(jsonDepthProblem(nestedArrays(256))).toBeNull();
    expect(jsonDepthProblem(nestedArrays(257))?.path).toBe("$[0][0][0][0][0][0][0][0]…[0][0]");
    expect(jsonDepthProblem(JSON.parse(objectsText(257)), { root: "input" })?.path).toBe(
      "input.a.a.a.a.a.a.a.a….a.a",
    );
  });

  it("refuses 10,000 and 400,000 levels and cycles without overflowing the stack", () => {
    expect(jsonDepthProblem(nestedArrays(10_000))?.maxDepth).toBe(256);
    expect(jsonDepthProblem(nestedArrays(400_000))?.maxDepth).toBe(256);
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(jsonDepthProblem(cyclic)?.path).toMatch(/^\$\.self\.self/);
  });

  it("accepts scalars and wide shallow values", () => {
    expect(jsonDepthProblem(null)).toBeNull();
    expect(jsonDepthProblem("x")).toBeNull();
    expect(jsonDepthProblem(Array.from({ length: 10_000 }, (_, i) => ({ i })))).toBeNull();
  });

  it("points at the sibling that goes too deep", () => {
    const value = { ok: [[1]], deep: { list: [0, nestedArrays(3)] } };
    expect(jsonDepthProblem(value, { maxDepth: 4 })?.path).toBe("$.deep.list[1][0]");
  });
});

describe("messages", () => {
  it("name the limit and the path, truncating long paths and keys", () => {
    expect(formatJsonPath("$", ["a", 0, "with space", "k".repeat(50)])).toBe(
      `$.a[0]["with space"].${"k".repeat(40)}…`,
    );
    expect(tooDeepMessage("run-start body", { path: "$.input[0]", maxDepth: 256 })).toBe(
      "run-start body nests deeper than the 256-level JSON depth limit at $.input[0].",
    );
  });
});

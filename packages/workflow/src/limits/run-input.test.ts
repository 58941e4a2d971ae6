// The run-input check every start path shares. What would break without it: each path (start,
// child call, cron) would compile and word its own check, and a schema that does not compile
// could let any input through.
import { describe, expect, it } from "vitest";
import { runInputProblem } from "./index.ts";

describe("runInputProblem", () => {
  it("is null without a schema or for matching input", () => {
    expect(runInputProblem(undefined, { anything: true })).toBeNull();
    expect(runInputProblem({ type: "object" }, {})).toBeNull();
  });

  it("names the path and the rule, rooted where the caller says", () => {
    const schema = { properties: { name: { type: "string" } } };
    expect(runInputProblem(schema, { name: 5 })).toBe("input.name: expected string, got number");
    expect(runInputProblem(schema, { name: 5 }, "triggers[1].input")).toBe(
      "triggers[1].input.name: expected string, got number",
    );
  });

  it("never lets input through a schema that does not compile", () => {
    expect(runInputProblem({ type: "text" }, "x")).toBe(
      'the workflow\'s input_schema is not a usable JSON Schema: input_schema.type: "text" is not a JSON Schema type (string, number, integer, boolean, object, array, null)',
    );
  });

  it("gives the same answer for a schema it has compiled before", () => {
    const schema = { type: "integer" };
    expect(runInputProblem(schema, 1.5)).toBe("input: expected integer, got number 1.5");
    expect(runInputProblem(schema, 2)).toBeNull();
    expect(runInputProblem(schema, 1.5)).toBe("input: expected integer, got number 1.5");
  });
});

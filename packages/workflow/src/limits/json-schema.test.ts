// The input_schema validator. What would break without it: a run started with `{ "name": 5 }`
// against a schema requiring a string would run (and fail somewhere inside the program), and a
// misspelt schema (`type: "strng"`) would be accepted at deploy and silently check nothing.
import { describe, expect, it } from "vitest";
import { compileJsonSchema, formatSchemaIssues } from "./index.ts";
import type { SchemaIssue } from "./index.ts";

function issuesOf(schema: unknown, value: unknown): SchemaIssue[] {
  const compiled = compileJsonSchema(schema);
  if (!compiled.ok) throw new Error(compiled.problem);
  return compiled.schema.validate(value);
}

function messagesOf(schema: unknown, value: unknown): string[] {
  return issuesOf(schema, value).map((issue) => `${issue.path}: ${issue.message}`);
}

function problemOf(schema: unknown): string {
  const compiled = compileJsonSchema(schema);
  if (compiled.ok) throw new Error("expected the schema to be refused");
  return compiled.problem;
}

const person = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 5 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    tags: { type: "array", items: { type: "string" }, maxItems: 2, uniqueItems: true },
    role: { enum: ["admin", "user"] },
    nickname: { type: ["string", "null"] },
  },
  required: ["name"],
  additionalProperties: false,
};

describe("compileJsonSchema: validation", () => {
  it("accepts a conforming value", () => {
    expect(
      messagesOf(person, { name: "Ada", age: 36, tags: ["a"], role: "admin", nickname: null }),
    ).toEqual([]);
  });

  it("names the JSON path and the rule for a wrong type", () => {
    expect(messagesOf(person, { name: 5 })).toEqual(["input.name: expected string, got number"]);
  });

  it("reports a missing required property and an unexpected one", () => {
    expect(messagesOf(person, { extra: true })).toEqual([
      "input.name: is required",
      "input.extra: is not an allowed property",
    ]);
  });

  it("checks bounds of numbers, strings and arrays", () => {
    expect(messagesOf(person, { name: "", age: -1, tags: ["a", "b", "c"] })).toEqual([
      "input.name: must be at least 1 character, got 0",
      "input.age: must be >= 0, got -1",
      "input.tags: must have at most 2 items, got 3",
    ]);
    expect(messagesOf(person, { name: "abcdef", age: 151 })).toEqual([
      "input.name: must be at most 5 characters, got 6",
      "input.age: must be <= 150, got 151",
    ]);
  });

  it("tells integers from numbers", () => {
    expect(messagesOf(person, { name: "a", age: 1.5 })).toEqual([
      "input.age: expected integer, got number 1.5",
    ]);
    expect(messagesOf(person, { name: "a", age: 2.0 })).toEqual([]);
  });

  it("indexes array items and refuses duplicates", () => {
    expect(messagesOf(person, { name: "a", tags: ["x", 3] })).toEqual([
      "input.tags[1]: expected string, got number",
    ]);
    expect(messagesOf(person, { name: "a", tags: ["x", "x"] })).toEqual([
      "input.tags: items must be unique (items 0 and 1 are equal)",
    ]);
  });

  it("checks enum, const and nullable type lists", () => {
    expect(messagesOf(person, { name: "a", role: "root", nickname: 3 })).toEqual([
      'input.role: expected one of "admin", "user"',
      "input.nickname: expected string or null, got number",
    ]);
    expect(messagesOf({ const: { a: [1] } }, { a: [1] })).toEqual([]);
    expect(messagesOf({ const: 3 }, 4)).toEqual(["input: expected 3"]);
  });

  it("quotes keys that are not identifiers", () => {
    expect(
      messagesOf({ properties: { "first name": { type: "string" } } }, { "first name": 1 }),
    ).toEqual(['input["first name"]: expected string, got number']);
  });

  it("checks a top-level value that is not an object", () => {
    expect(messagesOf(person, null)).toEqual(["input: expected object, got null"]);
    expect(messagesOf(person, [1])).toEqual(["input: expected object, got array"]);
  });

  it("applies pattern, multipleOf and exclusive bounds (numeric and draft-04 boolean)", () => {
    expect(messagesOf({ type: "string", pattern: "^[a-z]+$" }, "ABC")).toEqual([
      "input: must match the pattern ^[a-z]+$",
    ]);
    expect(messagesOf({ multipleOf: 0.5 }, 1.5)).toEqual([]);
    expect(messagesOf({ multipleOf: 2 }, 3)).toEqual(["input: must be a multiple of 2, got 3"]);
    expect(messagesOf({ exclusiveMinimum: 0 }, 0)).toEqual(["input: must be > 0, got 0"]);
    expect(messagesOf({ minimum: 0, exclusiveMinimum: true }, 0)).toEqual([
      "input: must be > 0, got 0",
    ]);
    expect(messagesOf({ exclusiveMaximum: 10 }, 10)).toEqual(["input: must be < 10, got 10"]);
  });

  it("merges anyOf type alternatives into one line", () => {
    expect(messagesOf({ anyOf: [{ type: "string" }, { type: "null" }] }, 5)).toEqual([
      "input: expected string or null (anyOf), got number",
    ]);
  });

  it("reports the alternative whose type matches when anyOf fails deeper", () => {
    const schema = {
      anyOf: [
        { type: "string" },
        { type: "object", properties: { n: { type: "number" } }, required: ["n"] },
      ],
    };
    expect(messagesOf(schema, { n: "x" })).toEqual(["input.n: expected number, got string"]);
    expect(messagesOf(schema, "ok")).toEqual([]);
  });

  it("requires exactly one oneOf match", () => {
    const schema = { oneOf: [{ type: "integer" }, { type: "number" }] };
    expect(messagesOf(schema, 1.5)).toEqual([]);
    expect(messagesOf(schema, 1)).toEqual([
      "input: must match exactly one oneOf alternative, but matches #0 and #1",
    ]);
  });

  it("applies allOf, not, if/then/else and boolean schemas", () => {
    expect(messagesOf({ allOf: [{ minimum: 1 }, { maximum: 3 }] }, 4)).toEqual([
      "input: must be <= 3, got 4",
    ]);
    expect(messagesOf({ not: { type: "null" } }, null)).toEqual([
      'input: must not match the "not" schema',
    ]);
    const conditional = {
      if: { properties: { kind: { const: "a" } } },
      then: { required: ["a"] },
      else: { required: ["b"] },
    };
    expect(messagesOf(conditional, { kind: "a" })).toEqual(["input.a: is required"]);
    expect(messagesOf(conditional, { kind: "z" })).toEqual(["input.b: is required"]);
    expect(messagesOf({ properties: { x: false } }, { x: 1 })).toEqual([
      "input.x: no value is allowed here",
    ]);
    expect(messagesOf(true, { anything: 1 })).toEqual([]);
  });

  it("follows local $refs, including recursive ones", () => {
    const tree = {
      $defs: {
        node: {
          type: "object",
          properties: { value: { type: "number" }, children: { items: { $ref: "#/$defs/node" } } },
        },
      },
      $ref: "#/$defs/node",
    };
    expect(
      messagesOf(tree, { value: 1, children: [{ value: 2, children: [{ value: "x" }] }] }),
    ).toEqual(["input.children[0].children[0].value: expected number, got string"]);
  });

  it("applies patternProperties, additionalProperties schemas and property counts", () => {
    const schema = {
      patternProperties: { "^x-": { type: "string" } },
      additionalProperties: { type: "number" },
      maxProperties: 2,
    };
    expect(messagesOf(schema, { "x-a": "s", b: 1 })).toEqual([]);
    expect(messagesOf(schema, { "x-a": 1, b: "s", c: 2 })).toEqual([
      "input: must have at most 2 properties, got 3",
      'input["x-a"]: expected string, got number',
      "input.b: expected number, got string",
    ]);
  });

  it("validates draft-07 tuple items and prefixItems", () => {
    expect(messagesOf({ items: [{ type: "string" }], additionalItems: false }, ["a", 1])).toEqual([
      "input[1]: no value is allowed here",
    ]);
    expect(
      messagesOf({ prefixItems: [{ type: "string" }], items: { type: "number" } }, [1, 2]),
    ).toEqual(["input[0]: expected string, got number"]);
  });

  it("ignores annotations and unknown keywords", () => {
    expect(
      messagesOf(
        {
          $schema: "https://json-schema.org/draft/2020-12/schema",
          title: "T",
          description: "d",
          default: {},
          examples: [],
          format: "email",
          "x-custom": 1,
        },
        "not an email",
      ),
    ).toEqual([]);
  });

  it("roots paths where the caller says", () => {
    const compiled = compileJsonSchema({ type: "string" });
    if (!compiled.ok) throw new Error(compiled.problem);
    expect(compiled.schema.validate(1, "triggers[0].input")).toEqual([
      { path: "triggers[0].input", message: "expected string, got number" },
    ]);
  });

  it("bounds the issues of a huge input", () => {
    const value = Array.from({ length: 500 }, () => 1);
    expect(issuesOf({ items: { type: "string" } }, value)).toHaveLength(50);
  });
});

describe("compileJsonSchema: malformed schemas", () => {
  it("names an unknown type", () => {
    expect(problemOf({ properties: { name: { type: "strng" } } })).toBe(
      'input_schema.properties.name.type: "strng" is not a JSON Schema type (string, number, integer, boolean, object, array, null)',
    );
  });

  it("names keywords of the wrong shape", () => {
    expect(problemOf({ properties: 5 })).toBe(
      "input_schema.properties must be an object of schemas",
    );
    expect(problemOf({ required: "name" })).toBe(
      "input_schema.required must be a list of property names",
    );
    expect(problemOf({ items: { minLength: -1 } })).toBe(
      "input_schema.items.minLength must be a non-negative integer",
    );
    expect(problemOf({ anyOf: [] })).toBe("input_schema.anyOf must be a non-empty list of schemas");
    expect(problemOf({ minimum: "1" })).toBe("input_schema.minimum must be a number");
    expect(problemOf({ multipleOf: 0 })).toBe(
      "input_schema.multipleOf must be a number greater than 0",
    );
    expect(problemOf({ enum: "a" })).toBe("input_schema.enum must be a list of values");
    expect(problemOf({ properties: { a: 3 } })).toBe(
      "input_schema.properties.a must be a schema (an object or a boolean)",
    );
  });

  it("names an invalid pattern", () => {
    expect(problemOf({ pattern: "(" })).toMatch(
      /^input_schema\.pattern: "\(" is not a valid regular expression \(/,
    );
  });

  it("refuses a $ref that does not resolve", () => {
    expect(problemOf({ $ref: "#/$defs/missing" })).toBe(
      'input_schema.$ref "#/$defs/missing" does not resolve (only local references such as "#/$defs/name" are supported)',
    );
    expect(problemOf({ $ref: "https://example.com/schema.json" })).toMatch(/does not resolve/);
  });

  it("uses the label it is given", () => {
    expect(compileJsonSchema({ type: 1 }, "meta.input_schema")).toEqual({
      ok: false,
      problem:
        "meta.input_schema.type: 1 is not a JSON Schema type (string, number, integer, boolean, object, array, null)",
    });
  });
});

describe("formatSchemaIssues", () => {
  it("joins the first issues and counts the rest", () => {
    const issues = Array.from({ length: 7 }, (_, i) => ({
      path: `input[${String(i)}]`,
      message: "expected string, got number",
    }));
    expect(formatSchemaIssues(issues.slice(0, 2))).toBe(
      "input[0]: expected string, got number; input[1]: expected string, got number",
    );
    expect(formatSchemaIssues(issues, 1)).toBe(
      "input[0]: expected string, got number (and 6 more)",
    );
  });
});

// Engines read `meta` from a file they have not run yet:
// executing it would run the program at deploy, and a vague error here is all an author sees.
import { describe, expect, it } from "vitest";
import { MetaValidationError } from "../manifest.ts";
import { extractManifest, extractMetaLiteral, MetaExtractionError } from "./index.ts";

/** The message of the MetaExtractionError that `run` throws. */
function extractionError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MetaExtractionError);
    expect((error as Error).name).toBe("MetaExtractionError");
    return (error as Error).message;
  }
  throw new Error("expected a MetaExtractionError");
}

describe("extractMetaLiteral", () => {
  it("unwraps satisfies / as const / parentheses without executing the file", () => {
    const source = [
      'import { agent, type WorkflowMeta } from "@promenade/workflow";',
      'throw new Error("executed!");',
      'export const meta = ({ slug: "x", triggers: [{ kind: "manual" }] as const }) satisfies WorkflowMeta;',
      'await agent("hi");',
    ].join("\n");
    expect(extractMetaLiteral(source)).toEqual({ slug: "x", triggers: [{ kind: "manual" }] });
  });

  it("converts every literal form", () => {
    const source = `export const meta = {
      a: \`plain template\`, b: -3, c: 1_000, d: 0x10, e: true, f: false, g: null,
      h: 'single', i: 1.5e3, j: 0o17, k: 0b101, l: [1, "two", [3],], m: { nested: <const>"x" },
      "quoted key": 1, 0x10: "hex key", ["computed"]: 2, n: -0.5,
    };`;
    expect(extractMetaLiteral(source)).toEqual({
      a: "plain template",
      b: -3,
      c: 1000,
      d: 16,
      e: true,
      f: false,
      g: null,
      h: "single",
      i: 1500,
      j: 15,
      k: 5,
      l: [1, "two", [3]],
      m: { nested: "x" },
      "quoted key": 1,
      "16": "hex key",
      computed: 2,
      n: -0.5,
    });
  });

  it("returns the literal as written: no defaults, no alias normalisation", () => {
    expect(extractMetaLiteral('const meta = { name: "legacy", secrets: [] }')).toEqual({
      name: "legacy",
      secrets: [],
    });
  });

  it("lets the last duplicate key win and keeps plain data properties", () => {
    const value = extractMetaLiteral('let meta = { a: 1, b: 2, a: 3, "__proto__": { x: 1 } }');
    expect(Object.keys(value)).toEqual(["a", "b", "__proto__"]);
    expect(value["a"]).toBe(3);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("takes the first top-level declaration named meta, exported or not", () => {
    const source = [
      "function f() { const meta = { inner: true }; return meta; }",
      "{ var other = 1; }",
      "declare const x: number;",
      "var meta = { first: 1 };",
      "export const meta2 = { no: 1 };",
    ].join("\n");
    expect(extractMetaLiteral(source)).toEqual({ first: 1 });
  });

  it.each([
    [
      "a variable reference",
      "const slug = 'x';\nexport const meta = { slug };",
      2,
      23,
      /shorthand/,
    ],
    [
      "a variable value",
      "const s = 'x';\nexport const meta = {\n  slug: s };",
      3,
      9,
      /variable reference/,
    ],
    [
      "a meta variable",
      "const m = {};\nexport const meta = m;",
      2,
      21,
      /must be an object literal/,
    ],
    [
      "defineMeta()",
      "export const meta = defineMeta({ slug: 'x' });",
      1,
      21,
      /satisfies WorkflowMeta/,
    ],
    ["an object spread", "export const meta = { ...base, slug: 'x' };", 1, 23, /spread/],
    ["a computed key", 'export const meta = { ["na" + "me"]: "x" };', 1, 23, /computed key/],
    ["a numeric computed key", "export const meta = { [1]: 'x' };", 1, 23, /computed key/],
    ["a substitution template", "export const meta = { slug: `a${1}` };", 1, 29, /template/],
    ["an array hole", "export const meta = {\n  triggers: [1, , 3] };", 2, 17, /holes/],
    ["an array spread", "export const meta = { t: [...x] };", 1, 27, /spread/],
    ["a method", "export const meta = { run() { return 1; } };", 1, 23, /methods/],
    ["a getter", "export const meta = { get x() { return 1; } };", 1, 23, /accessors/],
    ["undefined", "export const meta = { a: undefined };", 1, 26, /unsupported/],
    ["NaN", "export const meta = { a: NaN };", 1, 26, /unsupported/],
    ["unary plus", "export const meta = { a: +1 };", 1, 26, /unsupported/],
    ["minus on a parenthesis", "export const meta = { a: -(1) };", 1, 26, /unsupported/],
    ["minus on a string", 'export const meta = { a: -"1" };', 1, 26, /unsupported/],
    ["logical not", "export const meta = { a: !0 };", 1, 26, /unsupported/],
    ["a bigint", "export const meta = { a: 10n };", 1, 26, /bigint/],
    ["a regex", "export const meta = { a: /x/ };", 1, 26, /unsupported/],
    ["an arrow", "export const meta = { a: () => 1 };", 1, 26, /unsupported/],
    ["new", "export const meta = { a: new Date() };", 1, 26, /calls/],
    ["a binary expression", "export const meta = { a: 1 + 1 };", 1, 26, /unsupported/],
    ["a conditional", "export const meta = { a: true ? 1 : 2 };", 1, 26, /unsupported/],
    ["a non-null assertion", "export const meta = { a: 1 }!;", 1, 21, /must be an object literal/],
    ["an array meta", "export const meta = [1];", 1, 21, /must be an object literal/],
  ])("rejects %s with a positioned error", (_what, source, line, column, text) => {
    const message = extractionError(() => extractMetaLiteral(source));
    expect(message.startsWith(`index.ts:${String(line)}:${String(column)} — `)).toBe(true);
    expect(message).toMatch(text);
  });

  it("reports the first offending node in source order", () => {
    const message = extractionError(() =>
      extractMetaLiteral("export const meta = { a: [1, x], b: y };"),
    );
    expect(message).toMatch(/^index\.ts:1:30 — .*`x`/);
  });

  it("reports a missing meta without a position", () => {
    const message = extractionError(() =>
      extractMetaLiteral("export const other = {};\nexport { other as meta };"),
    );
    expect(message.startsWith("No `meta` declaration")).toBe(true);
    expect(extractionError(() => extractMetaLiteral("const { meta } = x;"))).toMatch(
      /^No `meta` declaration/,
    );
  });

  it("reports syntax errors as such, before looking for meta", () => {
    const message = extractionError(() =>
      extractMetaLiteral('export const meta = { slug: "unterminated };\n'),
    );
    expect(message).toMatch(/^index\.ts:1:\d+ — syntax error: Unterminated string literal/);
    expect(extractionError(() => extractMetaLiteral("const x = ;"))).toContain("syntax error");
  });

  it("selects the dialect and error prefix from fileName", () => {
    const jsx = "export const meta = { slug: 'x' };\nconst el = <div>hi</div>;";
    expect(extractMetaLiteral(jsx, { fileName: "w.tsx" })).toEqual({ slug: "x" });
    expect(extractMetaLiteral(jsx, { fileName: "w.jsx" })).toEqual({ slug: "x" });
    expect(extractionError(() => extractMetaLiteral(jsx))).toMatch(
      /^index\.ts:2:\d+ — syntax error/,
    );
    expect(
      extractionError(() =>
        extractMetaLiteral("export const meta = { slug: x };", { fileName: "bundle/index.mjs" }),
      ),
    ).toMatch(/^bundle\/index\.mjs:1:29 — /);
  });
});

describe("extractManifest", () => {
  it("validates the extracted literal", () => {
    let error: unknown;
    try {
      extractManifest('export const meta = { slug: "hello", triggers: [] }');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MetaValidationError);
    expect((error as Error).message).toContain("triggers");
  });

  it("returns the canonical manifest with legacy spellings normalised", () => {
    const source =
      'export const meta = { name: "digest", secrets: [{ name: "GH" }], triggers: [{ kind: "manual" }] } as const;';
    expect(extractManifest(source)).toEqual({
      slug: "digest",
      permissions: { secrets: [{ name: "GH" }] },
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "unlimited" },
      runs_on: "boardwalk/linux",
      callable_by: "anyone_in_org",
    });
  });
});

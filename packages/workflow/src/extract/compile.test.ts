/**
 * The TypeScript compile used at deploy: types erased with value imports kept, syntax errors
 * positioned in the source, and TypeScript-only syntax found in a file read as JavaScript. If
 * this breaks, TypeScript workflows fail at run time instead of at deploy.
 */
import { describe, expect, it } from "vitest";
import { CompileError, compileTypeScript, findTypeScriptSyntax } from "./compile.ts";

describe("compileTypeScript", () => {
  it("erases types and keeps value imports and top-level await", () => {
    const out = compileTypeScript(
      [
        'import { output, sleep } from "@promenade/workflow";',
        'import type { JsonValue } from "@promenade/workflow";',
        "const n: number = 2;",
        "await sleep(1);",
        "output({ n } as JsonValue);",
      ].join("\n"),
      { fileName: "a.ts" },
    );
    expect(out).toContain('import { output, sleep } from "@promenade/workflow";');
    expect(out).not.toContain("import type");
    expect(out).toContain("const n = 2;");
    expect(out).toContain("await sleep(1);");
  });

  it("throws CompileError naming the file, line and column of the first error", () => {
    let caught: unknown;
    try {
      compileTypeScript("const a = 1;\nconst b = ;\nconst c = ;\n", { fileName: "b.ts" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CompileError);
    expect((caught as CompileError).message).toBe(
      "Compiling b.ts failed: b.ts:2:11: Expression expected. (+1 more)",
    );
  });
});

describe("findTypeScriptSyntax", () => {
  it("finds annotations, interfaces, assertions and type-only imports; not plain JavaScript", () => {
    expect(findTypeScriptSyntax("const a = 1;\nconst b: number = 2;\n")).toEqual({
      line: 2,
      column: 10,
      message: "Type annotations can only be used in TypeScript files.",
    });
    expect(findTypeScriptSyntax("interface A { x: 1 }\n")?.line).toBe(1);
    expect(findTypeScriptSyntax("const a = 1 as number;\n")?.line).toBe(1);
    expect(findTypeScriptSyntax('import type { A } from "a";\n')?.line).toBe(1);
    expect(findTypeScriptSyntax("const a = { b: 1 };\nawait f(a);\n")).toBeNull();
  });
});

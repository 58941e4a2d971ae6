/**
 * TypeScript at deploy: a TypeScript program is compiled (with or without a `.ts` file name), a
 * `.mjs` file with TypeScript syntax is refused by name, and every source error names the
 * uploaded file and a line of that file. What breaks if these fail: a deploy that succeeds and a
 * run that then dies with "Missing initializer in const declaration", or an error pointing at a
 * line of compiled output the author never wrote.
 */
import { describe, expect, it } from "vitest";
import { prepareDeploy } from "./deploy.ts";
import type { CronCheck } from "./deploy.ts";

const acceptAll: CronCheck = { validate: () => undefined };

const TYPED = [
  'import { output } from "@promenade/workflow";',
  'import type { WorkflowMeta } from "@promenade/workflow";',
  "",
  "interface Greeting {",
  "  text: string;",
  "}",
  "",
  'export const meta = { slug: "typed", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta;',
  'const greeting: Greeting = { text: "hi" as string };',
  "output(greeting);",
  "",
].join("\n");

function failure(fn: () => unknown): { code?: string; message: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message: string; hint?: string };
  }
  throw new Error("expected a failure");
}

describe("prepareDeploy with TypeScript", () => {
  it("compiles a TypeScript program to JavaScript when no file name is given", () => {
    const prepared = prepareDeploy({ program: TYPED }, acceptAll);
    expect(prepared.manifest.slug).toBe("typed");
    expect(prepared.program).not.toContain("interface Greeting");
    expect(prepared.program).not.toContain(": Greeting");
    expect(prepared.program).not.toContain("import type");
    expect(prepared.program).toContain('import { output } from "@promenade/workflow";');
    expect(prepared.program).toContain("sourceMappingURL=data:application/json;base64,");
  });

  it("compiles a .ts file name and leaves plain JavaScript untouched", () => {
    expect(
      prepareDeploy({ program: TYPED, filename: "typed.ts" }, acceptAll).program,
    ).not.toContain("interface");
    const plain = 'export const meta = { slug: "plain", triggers: [{ kind: "manual" }] };\n';
    expect(prepareDeploy({ program: plain }, acceptAll).program).toBe(plain);
    expect(prepareDeploy({ program: plain, filename: "plain.mjs" }, acceptAll).program).toBe(plain);
  });

  it("refuses TypeScript syntax in a .mjs file, naming the file, the line and the fix", () => {
    const error = failure(() =>
      prepareDeploy({ program: TYPED, filename: "typed.mjs" }, acceptAll),
    );
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toMatch(/^typed\.mjs:2:1: /);
    expect(error.hint).toContain("typed.ts");
  });

  it("names the uploaded file and its own line for a syntax error", () => {
    const broken = TYPED.replace(
      'const greeting: Greeting = { text: "hi" as string };',
      "const = ;",
    );
    const error = failure(() =>
      prepareDeploy({ program: broken, filename: "greet.ts" }, acceptAll),
    );
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toBe("greet.ts:9:7 — syntax error: Variable declaration expected.");
    expect(error.hint).toBe("Fix the syntax at that line and column.");
  });

  it("names the uploaded file and its own line for a meta error in TypeScript", () => {
    const bad = TYPED.replace('slug: "typed"', "slug: SLUG");
    const error = failure(() => prepareDeploy({ program: bad, filename: "greet.ts" }, acceptAll));
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toMatch(/^greet\.ts:8:\d+ — unsupported expression `SLUG`/);
    expect(error.hint).not.toMatch(/spec|\u00a7/); // no section sign: hints cite nothing outside the repo
  });

  it("rejects a file name that is not a .ts, .mts, .mjs or .js file", () => {
    for (const filename of ["typed.tsx", "../typed.ts", "typed", ""]) {
      const error = failure(() => prepareDeploy({ program: TYPED, filename }, acceptAll));
      expect(error.code).toBe("VALIDATION");
      expect(error.message).toContain("filename");
    }
  });
});

/**
 * TypeScript → the ESM JavaScript a run process executes, with the TypeScript compiler's
 * `transpileModule` (one file, types erased, no type checking, no bundling). Also finds
 * TypeScript-only syntax in a source that claims to be JavaScript, so a deploy can compile it or
 * refuse it by name instead of storing a program that fails at run time with
 * `Missing initializer in const declaration`. Invariants: positions are the source file's own
 * (1-based line and column); the output keeps every import with a runtime value and carries an
 * inline source map naming the original file.
 */
import type TypeScript from "typescript";
import { typescript } from "./typescript.ts";

/** One problem in a source file, positioned in that file (1-based). */
export interface SourceProblem {
  line: number;
  column: number;
  message: string;
}

/** A TypeScript source that does not parse. `message` is `Compiling <file> failed: …`. */
export class CompileError extends Error {
  override readonly name = "CompileError";
  /** Every syntax error, in source order. */
  readonly problems: readonly SourceProblem[];
  constructor(fileName: string, problems: readonly SourceProblem[]) {
    const first = problems[0];
    const where = first === undefined ? "" : `${fileName}:${first.line}:${first.column}: `;
    const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : "";
    super(`Compiling ${fileName} failed: ${where}${first?.message ?? "unknown error"}${more}`);
    this.problems = problems;
  }
}

function compilerOptions(ts: typeof TypeScript): TypeScript.CompilerOptions {
  return {
    module: ts.ModuleKind.ESNext,
    // The run process is Node >= 22: keep modern syntax as written.
    target: ts.ScriptTarget.ES2023,
    // Stack traces can be mapped back to the author's lines.
    inlineSourceMap: true,
    inlineSources: true,
  };
}

/** "Type annotations can only be used in TypeScript files." and its siblings (TS 8002–8038). */
function isTypeScriptOnly(diagnostic: TypeScript.Diagnostic): boolean {
  return diagnostic.code >= 8000 && diagnostic.code < 9000;
}

function problemOf(diagnostic: TypeScript.Diagnostic): SourceProblem {
  const ts = typescript();
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
  if (diagnostic.file === undefined || diagnostic.start === undefined) {
    return { line: 1, column: 1, message };
  }
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return { line: line + 1, column: character + 1, message };
}

/**
 * The first TypeScript-only construct (a type annotation, an `interface`, `as`, `import type`…)
 * in `source` read as JavaScript, or `null` when it is plain JavaScript. Syntax errors that
 * are errors in both languages are not reported here. Parses once; no emit, no type checking.
 */
export function findTypeScriptSyntax(source: string): SourceProblem | null {
  const ts = typescript();
  const fileName = "index.mjs";
  const file = ts.createSourceFile(
    fileName,
    source,
    ts.ScriptTarget.ES2023,
    false,
    ts.ScriptKind.JS,
  );
  // A one-file program is the only public way to ask for the JavaScript-only diagnostics.
  const host: TypeScript.CompilerHost = {
    getSourceFile: (name) => (name === fileName ? file : undefined),
    writeFile: () => undefined,
    getDefaultLibFileName: () => "lib.d.ts",
    useCaseSensitiveFileNames: () => true,
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => "",
    getNewLine: () => "\n",
    fileExists: (name) => name === fileName,
    readFile: () => undefined,
  };
  const program = ts.createProgram(
    [fileName],
    { allowJs: true, noLib: true, noResolve: true, isolatedModules: true, types: [] },
    host,
  );
  const found = program.getSyntacticDiagnostics(file).find(isTypeScriptOnly);
  return found === undefined ? null : problemOf(found);
}

/**
 * Compile one TypeScript module to ESM JavaScript.
 * @param options.fileName the source's name (`.ts`/`.mts`), used in errors and the source map.
 * @throws CompileError naming `fileName:line:column` of the first syntax error.
 */
export function compileTypeScript(source: string, options: { fileName: string }): string {
  const ts = typescript();
  const result = ts.transpileModule(source, {
    fileName: options.fileName,
    reportDiagnostics: true,
    compilerOptions: compilerOptions(ts),
  });
  const errors = (result.diagnostics ?? []).filter(
    (diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error,
  );
  if (errors.length > 0) throw new CompileError(options.fileName, errors.map(problemOf));
  return result.outputText;
}

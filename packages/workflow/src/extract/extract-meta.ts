/**
 * Reads a workflow's `meta` without executing the file; published as
 * `@promenade/workflow/extract`. Uses the TypeScript compiler's parser only (loaded at the first
 * call), so this is the one entry that loads `typescript`; run programs never import it.
 * Invariants: nothing in the source is evaluated; only pure literals are accepted; every
 * rejection names `file:line:col` of the first offending node; a file that does not parse is
 * reported as a syntax error, never as "no meta".
 */
import type TypeScript from "typescript";
import { typescript } from "./typescript.ts";
import { validateMeta, type WorkflowManifest } from "../manifest.ts";

/** Thrown when `meta` cannot be located or is not a pure literal. */
export class MetaExtractionError extends Error {
  override readonly name = "MetaExtractionError";
}

/** Options of {@link extractMetaLiteral} / {@link extractManifest}. */
export interface MetaExtractionOptions {
  /**
   * Name used for the dialect (`.ts`/`.mts`/`.cts`, `.tsx`, `.js`/`.mjs`/`.cjs`, `.jsx`) and as
   * the prefix of error positions. Default `"index.ts"`.
   */
  fileName?: string;
}

const LITERALS_ONLY =
  "only pure literals (strings, numbers, true/false/null, objects and arrays) are allowed in `meta`";

function scriptKind(fileName: string): TypeScript.ScriptKind {
  const ts = typescript();
  const extension = /\.[^./\\]+$/.exec(fileName)?.[0].toLowerCase();
  switch (extension) {
    case ".tsx":
      return ts.ScriptKind.TSX;
    case ".js":
    case ".mjs":
    case ".cjs":
      return ts.ScriptKind.JS;
    case ".jsx":
      return ts.ScriptKind.JSX;
    default:
      return ts.ScriptKind.TS;
  }
}

/** Strips type-only wrappers: `x satisfies T`, `x as T` (incl. `as const`), `<T>x`, `(x)`. */
function unwrap(node: TypeScript.Expression): TypeScript.Expression {
  const ts = typescript();
  let current = node;
  for (;;) {
    if (
      ts.isSatisfiesExpression(current) ||
      ts.isAsExpression(current) ||
      ts.isTypeAssertionExpression(current) ||
      ts.isParenthesizedExpression(current)
    ) {
      current = current.expression;
    } else {
      return current;
    }
  }
}

class Extractor {
  readonly #file: TypeScript.SourceFile;
  readonly #fileName: string;

  constructor(file: TypeScript.SourceFile, fileName: string) {
    this.#file = file;
    this.#fileName = fileName;
  }

  /** A `MetaExtractionError` positioned at `start` (a character offset). */
  errorAt(start: number, text: string): MetaExtractionError {
    const { line, character } = this.#file.getLineAndCharacterOfPosition(start);
    return new MetaExtractionError(
      `${this.#fileName}:${String(line + 1)}:${String(character + 1)} — ${text}`,
    );
  }

  errorAtNode(node: TypeScript.Node, text: string): MetaExtractionError {
    return this.errorAt(node.getStart(this.#file), text);
  }

  snippet(node: TypeScript.Node): string {
    const text = node.getText(this.#file).replace(/\s+/g, " ");
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  }

  value(raw: TypeScript.Expression): unknown {
    const ts = typescript();
    const node = unwrap(raw);
    if (ts.isObjectLiteralExpression(node)) return this.object(node);
    if (ts.isArrayLiteralExpression(node)) return this.array(node);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
    // The parser already normalises hex, octal, binary and `_` separators to decimal text.
    if (ts.isNumericLiteral(node)) return Number(node.text);
    if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (node.kind === ts.SyntaxKind.NullKeyword) return null;
    if (
      ts.isPrefixUnaryExpression(node) &&
      node.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(node.operand)
    ) {
      return -Number(node.operand.text);
    }
    throw this.errorAtNode(node, this.unsupported(node));
  }

  unsupported(node: TypeScript.Expression): string {
    const ts = typescript();
    const what = `\`${this.snippet(node)}\``;
    if (ts.isIdentifier(node)) {
      return `unsupported expression ${what}: a variable reference is not a literal; ${LITERALS_ONLY}`;
    }
    if (ts.isTemplateExpression(node)) {
      return `unsupported expression ${what}: template literals with \${} substitutions are not allowed; ${LITERALS_ONLY}`;
    }
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      return `unsupported expression ${what}: calls are not evaluated; ${LITERALS_ONLY}`;
    }
    if (ts.isBigIntLiteral(node)) {
      return `unsupported expression ${what}: bigint is not JSON; ${LITERALS_ONLY}`;
    }
    return `unsupported expression ${what}; ${LITERALS_ONLY}`;
  }

  key(name: TypeScript.PropertyName): string {
    const ts = typescript();
    if (
      ts.isIdentifier(name) ||
      ts.isStringLiteral(name) ||
      ts.isNoSubstitutionTemplateLiteral(name)
    ) {
      return name.text;
    }
    if (ts.isNumericLiteral(name)) return String(Number(name.text));
    if (ts.isComputedPropertyName(name) && ts.isStringLiteral(name.expression)) {
      return name.expression.text;
    }
    throw this.errorAtNode(
      name,
      `computed key \`${this.snippet(name)}\` is not allowed; write the key as a plain name or string`,
    );
  }

  object(node: TypeScript.ObjectLiteralExpression): Record<string, unknown> {
    const ts = typescript();
    const result: Record<string, unknown> = {};
    for (const property of node.properties) {
      if (ts.isPropertyAssignment(property)) {
        const key = this.key(property.name);
        // defineProperty, not assignment: a `__proto__` key stays a plain data property, and a
        // duplicate key keeps its first position while the last value wins (JS semantics).
        Object.defineProperty(result, key, {
          value: this.value(property.initializer),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else if (ts.isShorthandPropertyAssignment(property)) {
        const name = property.name.text;
        throw this.errorAtNode(
          property,
          `shorthand property \`${name}\` references a variable; write \`${name}: <literal>\``,
        );
      } else if (ts.isSpreadAssignment(property)) {
        throw this.errorAtNode(
          property,
          "spread (`...`) is not allowed in `meta`; write the keys out",
        );
      } else {
        throw this.errorAtNode(
          property,
          "methods and accessors (get/set) are not allowed in `meta`; use `key: <literal>`",
        );
      }
    }
    return result;
  }

  array(node: TypeScript.ArrayLiteralExpression): unknown[] {
    const ts = typescript();
    return node.elements.map((element) => {
      if (ts.isSpreadElement(element)) {
        throw this.errorAtNode(element, "spread (`...`) is not allowed in an array in `meta`");
      }
      if (ts.isOmittedExpression(element)) {
        // An omitted element is zero-width: point at the comma that leaves the hole.
        const comma = this.#file.text.slice(element.pos).search(/\S/);
        throw this.errorAt(
          element.pos + Math.max(comma, 0),
          "array holes (`[1, , 3]`) are not allowed in `meta`",
        );
      }
      return this.value(element);
    });
  }
}

/** The parser's syntax diagnostics (the compiler keeps them on the source file). */
function syntaxDiagnostics(file: TypeScript.SourceFile, source: string, fileName: string) {
  const ts = typescript();
  const recorded = (file as unknown as { parseDiagnostics?: readonly TypeScript.Diagnostic[] })
    .parseDiagnostics;
  if (recorded !== undefined) return recorded;
  // Fallback for a compiler that stops exposing them: a transpile reports syntax errors only.
  return (
    ts.transpileModule(source, { fileName, reportDiagnostics: true, compilerOptions: {} })
      .diagnostics ?? []
  );
}

/**
 * Returns `meta` exactly as written (no defaults, no alias normalisation), without executing the
 * file. Throws {@link MetaExtractionError}: `syntax error: …` for a file that does not parse,
 * ``No `meta` declaration …`` when there is none, or a positioned error for anything that is not
 * a pure literal.
 */
export function extractMetaLiteral(
  source: string,
  options: MetaExtractionOptions = {},
): Record<string, unknown> {
  const ts = typescript();
  const fileName = options.fileName ?? "index.ts";
  const file = ts.createSourceFile(
    fileName,
    source,
    ts.ScriptTarget.Latest,
    true,
    scriptKind(fileName),
  );
  const extractor = new Extractor(file, fileName);

  const firstError = syntaxDiagnostics(file, source, fileName)[0];
  if (firstError !== undefined) {
    const text = ts.flattenDiagnosticMessageText(firstError.messageText, " ");
    throw extractor.errorAt(firstError.start ?? 0, `syntax error: ${text}`);
  }

  const declaration = findMeta(file);
  if (declaration === undefined) {
    throw new MetaExtractionError(
      `No \`meta\` declaration found in ${fileName}: add a top-level ` +
        '`export const meta = { slug: "…", triggers: [{ kind: "manual" }] } satisfies WorkflowMeta`.',
    );
  }
  const node = unwrap(declaration);
  if (ts.isCallExpression(node)) {
    throw extractor.errorAtNode(
      node,
      `\`meta\` must be a plain object literal; calls such as \`${extractor.snippet(node.expression)}(...)\` are not supported. Write \`export const meta = { ... } satisfies WorkflowMeta\``,
    );
  }
  if (!ts.isObjectLiteralExpression(node)) {
    throw extractor.errorAtNode(
      node,
      `\`meta\` must be an object literal, found \`${extractor.snippet(node)}\``,
    );
  }
  return extractor.object(node);
}

/** The initializer of the first top-level `const|let|var meta = …`, or `undefined`. */
function findMeta(file: TypeScript.SourceFile): TypeScript.Expression | undefined {
  const ts = typescript();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (
        ts.isIdentifier(declaration.name) &&
        declaration.name.text === "meta" &&
        declaration.initializer !== undefined
      ) {
        return declaration.initializer;
      }
    }
  }
  return undefined;
}

/**
 * `validateMeta(extractMetaLiteral(source, options))`: the canonical manifest of a workflow
 * file. Throws {@link MetaExtractionError} or `MetaValidationError`.
 */
export function extractManifest(source: string, options?: MetaExtractionOptions): WorkflowManifest {
  return validateMeta(extractMetaLiteral(source, options));
}

/**
 * `@promenade/workflow/extract`: reads a workflow's `meta` without executing the file, and
 * compiles a TypeScript workflow to the JavaScript a run executes. The calls load `typescript`
 * on first use; run programs never import it. The only door in: named re-exports, nothing else.
 */
export { extractManifest, extractMetaLiteral, MetaExtractionError } from "./extract-meta.ts";
export type { MetaExtractionOptions } from "./extract-meta.ts";
export { compileTypeScript, CompileError, findTypeScriptSyntax } from "./compile.ts";
export type { SourceProblem } from "./compile.ts";

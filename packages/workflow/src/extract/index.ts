/**
 * `@promenade/workflow/extract`: reads a workflow's `meta` without executing the file.
 * This entry loads `typescript`; run programs never import it. The only door in: named
 * re-exports of `./extract-meta.ts`, nothing else.
 */
export { extractManifest, extractMetaLiteral, MetaExtractionError } from "./extract-meta.ts";
export type { MetaExtractionOptions } from "./extract-meta.ts";

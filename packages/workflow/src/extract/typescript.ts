/**
 * The TypeScript compiler API, loaded on first use: importing this folder costs nothing until a
 * source is parsed or compiled, so a process that never deploys (a server whose workflows are
 * unchanged since its last start, a CLI command) never holds its ~50 MiB. Loaded with
 * `require()`: the `typescript` package ships a 9 MB CommonJS file without a package `type`,
 * which `import` would parse once to detect its module format and again to run it.
 */
import { createRequire } from "node:module";
import type TypeScript from "typescript";

let loaded: typeof TypeScript | undefined;

/** The compiler (loaded by the first call). */
export function typescript(): typeof TypeScript {
  loaded ??= createRequire(import.meta.url)("typescript") as typeof TypeScript;
  return loaded;
}

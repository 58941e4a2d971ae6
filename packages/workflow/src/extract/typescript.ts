/**
 * The TypeScript compiler API, loaded with `require()`. The `typescript` package ships a 9 MB
 * CommonJS file without a package `type`: `import` makes Node parse it once to detect its module
 * format and again to run it, while `require()` parses it once — a third less of the deploy
 * path's first call (a server's boot) on this package.
 */
import { createRequire } from "node:module";
import type TypeScript from "typescript";

export const ts = createRequire(import.meta.url)("typescript") as typeof TypeScript;

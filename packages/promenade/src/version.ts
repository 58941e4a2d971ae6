/**
 * This package's version, read from its package.json. The file sits one level below the package
 * root both as source (`src/`) and built (`dist/`), so one relative URL serves both.
 */
import { readFileSync } from "node:fs";

/** The `promenade` package version (e.g. `0.3.1`). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

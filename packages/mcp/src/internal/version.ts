/**
 * The package's own version, read lazily from package.json (one level above both src/ and
 * dist/), so `clientInfo.version` follows releases without a hand-kept constant.
 */
import { createRequire } from "node:module";

let cached: string | undefined;

/** `@promenade/mcp`'s version, or `"0.0.0"` if package.json cannot be read. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  try {
    const json = createRequire(import.meta.url)("../package.json") as { version?: unknown };
    cached = typeof json.version === "string" ? json.version : "0.0.0";
  } catch {
    cached = "0.0.0";
  }
  return cached;
}

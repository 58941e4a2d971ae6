/** Shared test helpers: temp workspaces and the stdio MCP fixture command. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the stdio MCP fixture (run with `node`, type stripping). */
export const MCP_FIXTURE = fileURLToPath(new URL("./fixtures/mcp-server.ts", import.meta.url));

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = "promenade-agent-"): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** All event bodies as one JSON string (to search for leaked secrets). */
export function dump(value: unknown): string {
  return JSON.stringify(value);
}

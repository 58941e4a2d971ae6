/**
 * `engine.backup(file)`: a consistent online copy of the SQLite database while the engine keeps
 * running (SQLite's online backup API, copying pages in small steps between other work). The copy
 * is written next to `file` under a temporary name and renamed into place once complete, so a
 * crash never leaves a half-written file under the requested name. PostgreSQL databases are
 * backed up with the server's own tools (`pg_dump`), not through the engine.
 */
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { EngineError } from "@promenade/workflow/errors";
import type { Backend } from "./backend.ts";

/** Copies the backend's database to `file` (absolute or relative to the working directory). */
export async function backupDatabase(backend: Backend, file: unknown): Promise<string> {
  if (typeof file !== "string" || file.length === 0) {
    throw new EngineError("VALIDATION", "backup(file): file must be a non-empty path.");
  }
  if (backend.sync === null) {
    throw new EngineError(
      "UNSUPPORTED",
      `backup() copies a SQLite data dir; this engine keeps its state in ${backend.label}.`,
      "Back up PostgreSQL with pg_dump (e.g. pg_dump --format=custom --file=promenade.dump <database>) and restore with pg_restore; run directories in the data dir are copied separately.",
    );
  }
  const target = resolve(file);
  if (existsSync(target)) {
    throw new EngineError(
      "CONFLICT",
      `backup(file): ${target} already exists.`,
      "Choose a new file name; a backup never overwrites a file.",
    );
  }
  const parent = dirname(target);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new EngineError(
      "VALIDATION",
      `backup(file): directory ${parent} does not exist.`,
      "Create the directory first.",
    );
  }
  const partial = `${target}.partial-${String(process.pid)}`;
  try {
    await backend.sync.backup(partial);
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return target;
}

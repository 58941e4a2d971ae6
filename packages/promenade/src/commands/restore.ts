/**
 * `promenade restore <file>`: puts a backup (from `promenade backup` or `engine.backup`) in place
 * as a data dir's database, for a server to start on. Refuses a data dir whose database is in use
 * by a running server (always), and one that already has a database unless `--force`; with
 * `--force` the old database and its write-ahead log are replaced together. The restored copy is
 * opened once (and migrated forward when it came from an older release) before this returns; the
 * runs that were in flight when the backup was taken are resumed by the server's boot recovery.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { Engine, isEngineError } from "@promenade/engine";
import type { Command } from "../command.ts";
import { stringOption } from "../args.ts";
import type { ParsedArgs } from "../args.ts";
import type { CliIo } from "../io.ts";
import { CliError } from "../errors.ts";

const SQLITE_HEADER = "SQLite format 3\0";

function isSqliteFile(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(16);
    return readSync(fd, buffer, 0, 16, 0) === 16 && buffer.toString("latin1") === SQLITE_HEADER;
  } finally {
    closeSync(fd);
  }
}

/** The engine's doors this command uses, loaded when it runs (no other command needs them). */
interface EngineDoors {
  Engine: typeof Engine;
  isEngineError: typeof isEngineError;
}

/** Opens (and closes) an engine on `dataDir`: `CONFLICT` while a server uses it. */
function openOnce(doors: EngineDoors, dataDir: string): void {
  const engine = new doors.Engine({ dataDir, log: () => undefined });
  engine.close();
}

/** `promenade restore`. */
export const restoreCommand: Command = {
  spec: {
    name: "restore",
    summary: "restore a backup into a data dir",
    description:
      "Copies a backup taken by `promenade backup` into the data dir as its database (promenade.db). Stop the server first: a data dir in use is always refused. A data dir that already has a database is refused unless --force. Start the server on the data dir afterwards; runs that were in flight when the backup was taken are resumed.",
    options: {
      "data-dir": {
        type: "string",
        value: "DIR",
        description:
          "the data dir to restore into (default: $PROMENADE_DATA_DIR, else ./promenade-data)",
      },
      force: {
        type: "boolean",
        description: "replace the data dir's existing database",
      },
    },
    positionals: [{ name: "file", required: true }],
    examples: [
      "promenade restore backups/promenade-2026-01-31.db --data-dir /srv/promenade",
      "promenade restore backup.db --force",
    ],
  },
  async run(args, io) {
    return restore(args, io, await import("@promenade/engine"));
  },
};

function restore(args: ParsedArgs, io: CliIo, doors: EngineDoors): number {
  const file = resolve(io.cwd, args.positionals[0] ?? "");
  const dataDir = resolve(
    io.cwd,
    stringOption(args.values["data-dir"]) ?? io.env["PROMENADE_DATA_DIR"] ?? "./promenade-data",
  );
  const force = args.values["force"] === true;
  if (!existsSync(file)) throw new CliError(`${file} does not exist.`);
  if (!isSqliteFile(file)) {
    throw new CliError(`${file} is not a Promenade backup (not a SQLite database).`, {
      hint: "Pass a file saved by `promenade backup`.",
    });
  }
  const database = join(dataDir, "promenade.db");
  if (existsSync(database)) {
    try {
      openOnce(doors, dataDir);
    } catch (error) {
      if (doors.isEngineError(error) && error.code === "CONFLICT") {
        throw new CliError(`the data dir ${dataDir} is in use by a running Promenade server.`, {
          hint: "Stop the server using it, then restore.",
        });
      }
      if (!force) throw error;
    }
    if (!force) {
      throw new CliError(`the data dir ${dataDir} already has a database.`, {
        hint: "Pass --force to replace it (its runs are replaced by the backup's), or restore into an empty data dir.",
      });
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const incoming = `${database}.restoring`;
  copyFileSync(file, incoming);
  // The old write-ahead log belongs to the old database: it must not be replayed onto the copy.
  for (const suffix of ["", "-wal", "-shm", "-journal"])
    rmSync(`${database}${suffix}`, { force: true });
  renameSync(incoming, database);
  try {
    openOnce(doors, dataDir);
  } catch (error) {
    throw new CliError(
      `the restored database in ${dataDir} does not open: ${error instanceof Error ? error.message : String(error)}`,
      { hint: "Check that the backup file is complete, or restore another backup." },
    );
  }
  io.stderr.write(`restored ${file} into ${database}\n`);
  return 0;
}

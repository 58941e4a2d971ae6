/**
 * `promenade backup <file>`: a consistent online backup of a running server's database, saved to
 * `<file>` (never overwriting one). The server copies its SQLite database with SQLite's online
 * backup while runs keep going and sends the copy back (`POST /api/admin/backup`), so this works
 * from any machine that can reach the API. A server on PostgreSQL answers with the `pg_dump`
 * guidance instead. Restore with `promenade restore <file>`.
 */
import { createWriteStream, existsSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SERVER_OPTIONS } from "../args.ts";
import { apiFailure, unreachable } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { CliError } from "../errors.ts";

/** `promenade backup`. */
export const backupCommand: Command = {
  spec: {
    name: "backup",
    summary: "save an online backup of a server's database",
    description:
      "Asks a running server for a consistent copy of its SQLite database (taken while runs keep going) and saves it to FILE, which must not exist. Restore it with `promenade restore FILE`. A server on PostgreSQL refuses: back it up with pg_dump.",
    options: { ...SERVER_OPTIONS },
    positionals: [{ name: "file", required: true }],
    examples: ["promenade backup backups/promenade-2026-01-31.db"],
  },
  async run(args, io) {
    const file = resolve(io.cwd, args.positionals[0] ?? "");
    if (existsSync(file)) {
      throw new CliError(`${file} already exists.`, {
        hint: "Choose a new file name; a backup never overwrites a file.",
      });
    }
    const target = targetFromArgs(args.values, io.env);
    const headers: Record<string, string> = { accept: "application/vnd.sqlite3" };
    if (target.token !== undefined) headers["authorization"] = `Bearer ${target.token}`;
    let response: Response;
    try {
      response = await fetch(`${target.baseUrl}/api/admin/backup`, { method: "POST", headers });
    } catch (error) {
      throw unreachable(target.baseUrl, error);
    }
    if (!response.ok || response.body === null) {
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw apiFailure(response.status, parsed, target);
    }
    const partial = `${file}.partial`;
    try {
      await pipeline(Readable.fromWeb(response.body), createWriteStream(partial, { flags: "wx" }));
      renameSync(partial, file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw new CliError(
        `saving the backup to ${file} failed: ${error instanceof Error ? error.message : String(error)}`,
        { hint: "Check that the directory exists and is writable, then retry." },
      );
    }
    io.stderr.write(`backup saved to ${file}\n`);
    return 0;
  },
};

/**
 * `POST /api/admin/backup`: a consistent online backup of the engine's database, answered as the
 * response body (`application/vnd.sqlite3`, a file to save as-is), so a client on another machine
 * can take one while the server keeps running. The engine writes the copy into a private
 * temporary directory, which is removed once the body is sent (or the client goes away). It is an
 * `/api` route: behind the API token when one is set, loopback-only otherwise. An engine that
 * cannot copy its database (PostgreSQL) answers 400 `UNSUPPORTED` with the `pg_dump` hint.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { HttpError } from "../internal/http.ts";
import type { EngineApi } from "../ports.ts";

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
}

/** The backup handler over `engine`. */
export function backupRoute(engine: EngineApi): (ctx: Ctx) => Promise<void> {
  return async ({ res }) => {
    if (engine.backup === undefined) {
      throw new HttpError(
        400,
        "UNSUPPORTED",
        "Backups are not available on this server.",
        "Embedders pass an engine with backup(file); promenade-server always has one.",
      );
    }
    const dir = await mkdtemp(join(tmpdir(), "promenade-backup-"));
    try {
      const file = await engine.backup(join(dir, "promenade.db"));
      const { size } = await stat(file);
      res.writeHead(200, {
        "content-type": "application/vnd.sqlite3",
        "content-length": String(size),
        "content-disposition": 'attachment; filename="promenade.db"',
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      await pipeline(createReadStream(file), res).catch(() => {
        // The client went away; the temporary copy is removed below either way.
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

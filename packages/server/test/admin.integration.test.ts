/**
 * `POST /api/admin/backup` and the retention counters of `/metrics`, on a real listening server
 * over a fake engine: the backup is streamed back as the response body and its temporary copy is
 * removed; the route sits behind the API token like every `/api` route; an engine without backups
 * answers 400 `UNSUPPORTED`; an engine's refusal (PostgreSQL) reaches the client with its hint.
 * What breaks if this fails: backups readable without the token, temporary copies piling up, or
 * retention invisible to monitoring.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EngineError } from "@promenade/workflow/errors";
import { http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const TOKEN = "admin-test-token-0123456789abcdefghij";
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("POST /api/admin/backup", () => {
  it("streams the engine's copy back behind the API token and removes the temporary file", async () => {
    const written: string[] = [];
    h = await startHarness({ apiToken: TOKEN }, {}, (engine) =>
      Object.assign(Object.create(engine) as typeof engine, {
        backup: (file: string) => {
          writeFileSync(file, "SQLite format 3\0copy");
          written.push(file);
          return Promise.resolve(file);
        },
        retentionStats: () => ({ sweeps: 3, runsDeleted: 41, versionsDeleted: 2 }),
      }),
    );
    const denied = await http(h, "POST", "/api/admin/backup");
    expect(denied.status).toBe(401);
    expect(written).toEqual([]);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const res = await http(h, "POST", "/api/admin/backup", { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/vnd.sqlite3");
    expect(res.text).toBe("SQLite format 3\0copy");
    expect(written).toHaveLength(1);
    // Removed once the body is sent (right after the client saw its end).
    const tempDir = dirname(written[0] ?? "");
    for (let i = 0; i < 100 && existsSync(tempDir); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(existsSync(tempDir)).toBe(false);
    const metrics = await http(h, "GET", "/metrics", { headers: auth });
    expect(metrics.text).toContain("promenade_retention_sweeps_total 3");
    expect(metrics.text).toContain("promenade_retention_runs_deleted_total 41");
    expect(metrics.text).toContain("promenade_retention_versions_deleted_total 2");
  });

  it("answers UNSUPPORTED without an engine backup, and passes on the engine's refusal", async () => {
    h = await startHarness();
    const none = await http(h, "POST", "/api/admin/backup");
    expect(none.status).toBe(400);
    expect(none.json.error.code).toBe("UNSUPPORTED");
    expect((await http(h, "GET", "/metrics")).text).not.toContain("promenade_retention");
    await h.close();
    h = await startHarness({}, {}, (engine) =>
      Object.assign(Object.create(engine) as typeof engine, {
        backup: () =>
          Promise.reject(
            new EngineError("UNSUPPORTED", "backup() copies a SQLite data dir.", "Use pg_dump."),
          ),
      }),
    );
    const pg = await http(h, "POST", "/api/admin/backup");
    expect(pg.status).toBe(400);
    expect(pg.json.error).toMatchObject({ code: "UNSUPPORTED", hint: "Use pg_dump." });
  });
});

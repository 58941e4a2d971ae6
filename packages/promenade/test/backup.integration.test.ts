/**
 * `promenade backup` and `promenade restore` end to end against a real `promenade-server`
 * process: a backup of the running server is saved (never over an existing file), restoring it
 * into the data dir of the running server is refused, restoring into a fresh data dir works (and
 * over an existing database only with --force), and a server started on the restored data dir
 * serves the runs the backup held. What breaks if this fails: backups that cannot be taken while
 * the server runs, or a restore that clobbers a live data dir.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { STEPS } from "./fixtures.ts";
import { cli, killChildren, startServer, waitFor, writeFiles } from "./helpers.ts";

afterAll(killChildren);

describe("promenade backup / restore", () => {
  it("backs up a running server, refuses unsafe restores, and a restored data dir serves the same runs", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "promenade-backup-cli-")), "data");
    const server = startServer({ PROMENADE_DATA_DIR: dataDir });
    const url = await server.url;
    const env = { PROMENADE_URL: url };
    const dir = writeFiles({});
    const deployed = await fetch(`${url}/api/workflows`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ program: STEPS, filename: "steps.ts" }),
    });
    expect(deployed.status).toBe(201);
    const started = (await (
      await fetch(`${url}/api/workflows/steps/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      })
    ).json()) as { run: { id: string } };
    const runId = started.run.id;
    await waitFor(async () => {
      const body = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as {
        run: { status: string };
      };
      return body.run.status === "completed" ? true : undefined;
    });

    const saved = await cli(["backup", "backup.db"], { env, cwd: dir });
    expect(saved.stderr).toContain(`backup saved to ${join(dir, "backup.db")}`);
    expect(saved.code).toBe(0);
    expect(readFileSync(join(dir, "backup.db")).subarray(0, 15).toString("latin1")).toBe(
      "SQLite format 3",
    );

    const inUse = await cli(["restore", "backup.db", "--data-dir", dataDir, "--force"], {
      cwd: dir,
    });
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain("in use by a running Promenade server");

    const fresh = join(mkdtempSync(join(tmpdir(), "promenade-restored-")), "data");
    const restored = await cli(["restore", "backup.db", "--data-dir", fresh], { cwd: dir });
    expect(restored.stderr).toContain("restored");
    expect(restored.code).toBe(0);
    expect(existsSync(join(fresh, "promenade.db"))).toBe(true);
    const twice = await cli(["restore", "backup.db", "--data-dir", fresh], { cwd: dir });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("already has a database");
    const forced = await cli(["restore", "backup.db", "--data-dir", fresh, "--force"], {
      cwd: dir,
    });
    expect(forced.code).toBe(0);

    const second = startServer({ PROMENADE_DATA_DIR: fresh });
    const secondUrl = await second.url;
    const listed = await waitFor(async () => {
      const body = (await (await fetch(`${secondUrl}/api/runs`)).json()) as {
        runs: { id: string; status: string }[];
      };
      return body.runs.length > 0 ? body.runs : undefined;
    });
    expect(listed.map((r) => [r.id, r.status])).toEqual([[runId, "completed"]]);
  }, 240_000);

  it("refuses a file that is not a backup, and never overwrites a file with a backup", async () => {
    const dir = writeFiles({ "notes.txt": "hello" });
    const result = await cli(["restore", "notes.txt", "--data-dir", join(dir, "data")], {
      cwd: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is not a Promenade backup");
    const taken = await cli(["backup", "notes.txt", "--url", "http://127.0.0.1:9"], { cwd: dir });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("already exists");
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("hello");
  }, 120_000);
});

/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- the test reads untyped JSON output */
/**
 * The CLI end to end against a real `promenade-server` process: deploy → workflows → run (exit
 * 0 with the output on stdout, exit 1 for a failed run) → logs --follow and cancel (both exit
 * 130; cancelling the ended run again exits 1) → runs, with every `--json` output parsed. If
 * this breaks, the commands a newcomer types first stop working, or scripts can no longer tell a
 * completed run from a failed one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BAD_META, FAILS, STEPS } from "./fixtures.ts";
import { cli, killChildren, spawnCli, startServer, waitFor, writeFiles } from "./helpers.ts";

let url = "";
let env: Record<string, string> = {};
let dir = "";

// Starts a server process and deploys: slow on a loaded machine.
beforeAll(async () => {
  url = await startServer().url;
  env = { PROMENADE_URL: url };
  dir = writeFiles({ "steps.ts": STEPS, "fails.ts": FAILS, "bad.ts": BAD_META });
}, 120_000);
afterAll(killChildren);

describe("promenade against a server", () => {
  it("deploys files, and names the file and its own line when one is rejected", async () => {
    const ok = await cli(["deploy", "steps.ts", "fails.ts", "--json"], { env, cwd: dir });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const body = JSON.parse(ok.stdout);
    expect(
      body.deployed.map((d: { slug: string; created: boolean }) => [d.slug, d.created]),
    ).toEqual([
      ["steps", true],
      ["fails", true],
    ]);
    const again = await cli(["deploy", "steps.ts"], { env, cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('deployed "steps" from steps.ts (updated)');

    const bad = await cli(["deploy", "bad.ts"], { env, cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "failed   bad.ts: VALIDATION: bad.ts:4:29 — unsupported expression `SLUG`",
    );
  });

  it("lists workflows as a table and as JSON", async () => {
    const table = await cli(["workflows"], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^WORKFLOW\s+TRIGGERS\s+LAST RUN\s+DEPLOYED\n/);
    expect(table.stdout).toMatch(/\nsteps\s+manual\s+/);
    const json = await cli(["workflows", "--json"], { env });
    expect(JSON.parse(json.stdout).workflows.map((w: { slug: string }) => w.slug)).toEqual([
      "fails",
      "steps",
    ]);
  });

  it("runs a workflow by slug: events on stderr, output on stdout, exit 0", async () => {
    const run = await cli(["run", "steps", "--input", '{"steps":2}'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ steps: 2 });
    expect(run.stderr).toMatch(/status {2}queued/);
    expect(run.stderr).toMatch(/phase {3}step-2/);
    expect(run.stderr).toMatch(/stdout {2}line 2/);
    expect(run.stderr).toMatch(/run [0-9A-Z]{26} completed in /);
    expect(run.stderr).not.toContain("\u001b[");

    const json = await cli(["run", "steps", "--json"], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).run).toMatchObject({
      status: "completed",
      output: { steps: 3 },
    });
  });

  it("exits 1 for a failed run and shows the error", async () => {
    const run = await cli(["run", "fails"], { env });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/run [0-9A-Z]{26} failed .*PROGRAM_ERROR: .*boom/);
    // The stack under it points at the deployed TypeScript file's own line; `logs` shows it too.
    expect(run.stderr).toMatch(/\n {2}at .*fails\.ts:6:\d+/);
    const runId = /run ([0-9A-Z]{26}) failed/.exec(run.stderr)?.[1] ?? "";
    const logs = await cli(["logs", runId], { env });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/status {2}failed .*PROGRAM_ERROR: boom\n {2}at .*fails\.ts:6:\d+/);
  });

  it("follows a run with logs --follow, cancels it, both exit 130; a second cancel exits 1", async () => {
    const running = spawnCli(["run", "steps", "--input", '{"steps":200,"delayMs":100}'], { env });
    const runId = await waitFor(() => /started run ([0-9A-Z]{26})/.exec(running.stderr())?.[1]);
    const logs = spawnCli(["logs", runId, "--follow"], { env });
    await waitFor(() => (logs.stdout().includes("line 2") ? true : undefined));

    const cancel = await cli(["cancel", runId], { env });
    expect(cancel.code).toBe(0);
    expect(cancel.stderr).toContain(`cancel requested for run ${runId}`);

    expect(await logs.exit).toBe(130);
    expect(logs.stdout()).toMatch(/status {2}cancelled\n/);
    expect(await running.exit).toBe(130);
    expect(running.stderr()).toMatch(new RegExp(`run ${runId} cancelled`));

    const status = await cli(["runs", "--workflow", "steps", "--status", "cancelled", "--json"], {
      env,
    });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).runs.map((r: { id: string }) => r.id)).toEqual([runId]);

    const stored = await cli(["logs", runId, "--channels", "lifecycle", "--json"], { env });
    expect(stored.code).toBe(0);
    const statuses = stored.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).event.status);
    expect(statuses).toEqual(["queued", "pending", "running", "cancelling", "cancelled"]);

    // The run has ended: cancelling it again is refused and changes nothing.
    const again = await cli(["cancel", runId], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `promenade cancel: CONFLICT: Run ${runId} already ended cancelled; only a run that has not ended can be cancelled.`,
    );
    expect(again.stderr).toContain("POST /api/workflows/steps/runs");
  });

  it("lists runs newest first as a table", async () => {
    const table = await cli(["runs", "--limit", "2"], { env });
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+TRIGGER\s+CREATED\s+DURATION$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^[0-9A-Z]{26}\s+steps\s+cancelled\s+manual\s+\d+s ago/);
  });

  it("reports an unknown run and an unreachable server with exit 1 and a hint", async () => {
    const unknown = await cli(["logs", "01JDA7Q3M8X2ZC4K9T5VQW1HNB"], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      "promenade logs: NOT_FOUND: Unknown run: 01JDA7Q3M8X2ZC4K9T5VQW1HNB",
    );
    const cancel = await cli(["cancel", "01JDA7Q3M8X2ZC4K9T5VQW1HNB"], { env });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain("NOT_FOUND");

    const down = await cli(["runs"], { env: { PROMENADE_URL: "http://127.0.0.1:9" } });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(
      "promenade runs: cannot reach a Promenade server at http://127.0.0.1:9",
    );
    expect(down.stderr).toContain("hint: Start one with `promenade server`");
  });
});

// The retry policy with real run processes over the in-memory store: a program that fails twice
// then succeeds completes on its third pass with both failures on the record, while an error the
// policy never retries fails the run at once.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** Each `run_status` as `status`, `status:reason` and `!CODE` when it carries an error. */
function statuses(runId: string): string[] {
  return h.events(runId).flatMap((row) => {
    if (row.event.kind !== "run_status") return [];
    const { status, reason, error } = row.event;
    return [
      `${status}${reason === undefined ? "" : `:${reason}`}${error === undefined ? "" : `!${error.code}`}`,
    ];
  });
}

// Counts its attempts in the run's workspace (kept across passes) and fails the first two.
const FLAKY = [
  'import { existsSync, readFileSync, writeFileSync } from "node:fs";',
  'const attempt = (existsSync("attempts") ? Number(readFileSync("attempts", "utf8")) : 0) + 1;',
  'writeFileSync("attempts", String(attempt));',
  "if (attempt < 3) throw new Error(`attempt ${attempt} broke`);",
  "output({ attempt });",
].join("\n");

describe("retries of a failing program", () => {
  it("completes on pass 3 after two failures, each recorded with its error", async () => {
    h = createHarness();
    h.deploy(
      { slug: "flaky", retry: { attempts: 3, backoff: { initial_seconds: 0.05, factor: 2 } } },
      FLAKY,
    );
    const row = await h.run("flaky");
    expect(row).toMatchObject({
      status: "completed",
      output: { attempt: 3 },
      error: null,
      retries: 2,
      retryAt: null,
      restarts: 0,
    });
    expect(statuses(row.id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "completed",
    ]);
    const failures = h
      .events(row.id)
      .flatMap((e) => (e.event.kind === "run_status" && e.event.error ? [e.event.error] : []));
    expect(failures.map((error) => error.message)).toEqual([
      expect.stringContaining("attempt 1 broke"),
      expect.stringContaining("attempt 2 broke"),
    ]);
    expect(row.activeMs).toBeGreaterThan(0);
  });

  it("fails on the last attempt's error when every attempt fails", async () => {
    h = createHarness();
    h.deploy({ slug: "flaky", retry: { attempts: 2 } }, FLAKY);
    const row = await h.run("flaky");
    expect(row).toMatchObject({ status: "failed", retries: 1 });
    expect(row.error).toMatchObject({ code: "PROGRAM_ERROR" });
    expect(row.error?.message).toContain("attempt 2 broke");
  });

  it("fails at once on an error the policy never retries", async () => {
    h = createHarness();
    h.deploy(
      { slug: "undeclared", retry: { attempts: 5 } },
      'output(await secrets.get("NOT_DECLARED"));',
    );
    const row = await h.run("undeclared");
    expect(row).toMatchObject({ status: "failed", retries: 0 });
    expect(row.error?.code).toBe("SECRET_UNDECLARED");
    expect(statuses(row.id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "failed!SECRET_UNDECLARED",
    ]);
  });
});

// Crash restarts with a bounded budget, cooperative cancellation with
// grace then SIGKILL, cancel racing completion. Real run processes, real signals.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, until } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe("crash and restart", () => {
  it("restarts a crashed pass from the top in the same workspace and completes", async () => {
    h = createHarness();
    h.deploy(
      { slug: "flaky" },
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'if (!existsSync("marker")) { writeFileSync("marker", "1"); process.exit(7); }',
        'output("recovered");',
      ].join("\n"),
    );
    const row = await h.run("flaky");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("recovered");
    expect(row.restarts).toBe(1);
    expect(h.statuses(row.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
  });

  it("ends CRASHED after maxRestarts + 1 deaths (maxRestarts 1)", async () => {
    h = createHarness({ maxRestarts: 1 });
    h.deploy({ slug: "doomed" }, "process.exit(3);");
    const row = await h.run("doomed");
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("CRASHED");
    expect(row.error?.message).toContain("exit code 3");
    expect(row.restarts).toBe(2);
    expect(h.statuses(row.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "failed",
    ]);
  });

  it("uses the default of 2 restarts: three passes, restarts = 3", async () => {
    h = createHarness();
    h.deploy({ slug: "doomed" }, "process.exit(3);");
    const row = await h.run("doomed");
    expect(row.error?.code).toBe("CRASHED");
    expect(row.restarts).toBe(3);
    expect(h.statuses(row.id).filter((s) => s === "running")).toHaveLength(3);
    expect(h.statuses(row.id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "pending",
      "running",
      "failed",
    ]);
  });

  it("counts process.exit(0) before the program settles as a crash", async () => {
    h = createHarness({ maxRestarts: 0 });
    h.deploy({ slug: "early-exit" }, "process.exit(0); output('never');");
    const row = await h.run("early-exit");
    expect(row.restarts).toBeGreaterThanOrEqual(1);
    expect(row.error?.code).toBe("CRASHED");
  });
});

describe("cancellation", () => {
  it("cancels a sleeping run without waiting for the sleep", async () => {
    h = createHarness();
    h.deploy({ slug: "long" }, "await sleep(60_000);");
    const id = await h.create("long");
    const done = h.supervisor.supervise(id);
    await until(() => h.statuses(id).includes("running"));
    await h.supervisor.cancel(id);
    const row = await done;
    expect(row.status).toBe("cancelled");
    expect(row.endedAt).not.toBeNull();
    expect(row.error).toBeNull();
    expect(h.statuses(id)).toEqual(["queued", "pending", "running", "cancelling", "cancelled"]);
  });

  it("SIGKILLs a program whose SIGTERM handler ignores the signal after the grace", async () => {
    h = createHarness({ cancelGraceMs: 250 });
    h.deploy(
      { slug: "stubborn" },
      'process.on("SIGTERM", () => {}); console.log("ready"); await sleep(60_000);',
    );
    const id = await h.create("stubborn");
    const done = h.supervisor.supervise(id);
    await until(() => h.kinds(id).includes("program_output"));
    await h.supervisor.cancel(id);
    expect((await done).status).toBe("cancelled");
  });

  it("cancels a run that is not executing without a process or run dir", async () => {
    h = createHarness();
    h.deploy({ slug: "later" }, "output(1);");
    const id = await h.create("later");
    await h.supervisor.cancel(id);
    const row = h.store.peek.run(id);
    expect(row?.status).toBe("cancelled");
    expect(row?.endedAt).not.toBeNull();
    expect(h.statuses(id)).toEqual(["queued", "cancelled"]);
    expect(existsSync(join(h.dataDir, "runs", id))).toBe(false);
  });

  it("leaves a terminal run alone and rejects an unknown id with NOT_FOUND", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, "output(1);");
    const row = await h.run("echo");
    const before = h.events(row.id).length;
    await h.supervisor.cancel(row.id);
    expect(h.store.peek.run(row.id)?.status).toBe("completed");
    expect(h.events(row.id)).toHaveLength(before);
    await expect(h.supervisor.cancel("01NOPE")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(h.supervisor.supervise("01NOPE")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("ends cancelled (never completed) when completion races the cancel", async () => {
    h = createHarness({ cancelGraceMs: 5000 });
    h.deploy(
      { slug: "racer" },
      'process.on("SIGTERM", () => {}); console.log("ready"); await sleep(500); output("finished");',
    );
    const id = await h.create("racer");
    const done = h.supervisor.supervise(id);
    await until(() => h.kinds(id).includes("program_output"));
    const cancelled = h.supervisor.cancel(id);
    const second = h.supervisor.cancel(id);
    await Promise.all([cancelled, second]);
    const row = await done;
    expect(row.status).toBe("cancelled");
    expect(row.output).toBeNull();
    expect(h.statuses(id)).toEqual(["queued", "pending", "running", "cancelling", "cancelled"]);
    const kinds = h.kinds(id);
    expect(kinds.at(-2)).toBe("output");
  });

  it("finalizes an interrupted cancellation on supervise and on the boot sweep", async () => {
    h = createHarness();
    h.deploy({ slug: "echo" }, "output(1);");
    const a = await h.create("echo");
    const b = await h.create("echo");
    for (const id of [a, b]) {
      h.store.patchRun(id, { status: "cancelling", startedAt: Date.now() });
    }
    const viaSupervise = await h.supervisor.supervise(a);
    expect(viaSupervise.status).toBe("cancelled");
    const sweep = await h.supervisor.recoverOnBoot();
    expect(sweep.cancelled).toEqual([b]);
    expect(h.store.peek.run(b)?.status).toBe("cancelled");
    expect(h.events(b).at(-1)?.event).toMatchObject({ kind: "run_status", status: "cancelled" });
    expect(h.logs.some((l) => l.includes("recovery sweep: restarted 0 run(s), cancelled 1"))).toBe(
      true,
    );
  });
});

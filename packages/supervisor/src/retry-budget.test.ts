// The retry policy and the run's active time, with a fake launch, the in-memory store and a manual
// clock: attempts, backoff waits on the injected clock (and across a new supervisor), cancels
// during a wait, and max_duration_seconds counted over the time passes are alive — never the time
// between them or an engine's downtime, which deadline_seconds does count. No Node processes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RunSupervisor } from "./supervisor.ts";
import type { SupervisorOptions } from "./supervisor.ts";
import { createManualClock } from "@promenade/workflow/testing";
import type { ManualClock } from "@promenade/workflow/testing";
import { createFakeLaunch, createInMemorySupervisorStore } from "./testing/index.ts";
import type { FakeChild, InMemorySupervisorStore } from "./testing/index.ts";

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(
  script: (child: FakeChild, index: number) => void,
  meta: Record<string, unknown>,
  clock: ManualClock,
  store: InMemorySupervisorStore = createInMemorySupervisorStore({ now: () => clock.now() }),
) {
  const fake = createFakeLaunch(script);
  const dataDir = mkdtempSync(join(tmpdir(), "promenade-retry-unit-"));
  dataDirs.push(dataDir);
  const options = (): SupervisorOptions => ({
    store,
    dataDir,
    childEntryPath: "/nonexistent/child.js",
    sdkPackageDir: tmpdir(),
    env: new Map(),
    processEnv: {},
    envLabel: "the test env",
    launch: fake.launch,
    log: () => undefined,
    priceUsage: () => 0,
    clock,
  });
  const supervisor = new RunSupervisor(options());
  const workflow = store.addWorkflow({
    slug: "wf",
    manifest: {
      slug: "wf",
      triggers: [{ kind: "manual" }],
      concurrency: { mode: "unlimited" },
      ...meta,
    } as never,
    program: "export const meta = {};",
  });
  const start = async (): Promise<string> =>
    (await store.createRun({ workflowId: workflow.id, triggerKind: "manual" })).run.id;
  return { store, supervisor, fake, start, another: () => new RunSupervisor(options()) };
}

/** Each `run_status` as `status` or `status:reason`, with `!CODE` when it carries an error. */
function statuses(store: InMemorySupervisorStore, runId: string): string[] {
  return store.peek.events(runId).flatMap((row) => {
    if (row.event.kind !== "run_status") return [];
    const { status, reason, error } = row.event;
    return [
      `${status}${reason === undefined ? "" : `:${reason}`}${error === undefined ? "" : `!${error.code}`}`,
    ];
  });
}

/** Polls every turn, up to 5 s (a pass lays out its run directory with real filesystem calls). */
async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!check() && Date.now() < end) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error("condition not met");
}

/** A child that reports `failed` with `code` as soon as it is initialised. */
function failWith(child: FakeChild, code: string): void {
  child.once("parent-message", () => {
    child.post({
      type: "failed",
      error: { code, message: `attempt failed with ${code}` },
      output: null,
      outputDeclared: false,
    });
    child.exit(1);
  });
}

function complete(child: FakeChild): void {
  child.once("parent-message", () => {
    child.post({ type: "done", output: "ok", outputDeclared: true });
    child.exit(0);
  });
}

describe("retry policy", () => {
  it("waits each backoff on the injected clock, growing by factor up to max_seconds, then completes", async () => {
    const clock = createManualClock();
    const { store, supervisor, fake, start } = setup(
      (child, index) => (index < 3 ? failWith(child, "PROGRAM_ERROR") : complete(child)),
      { retry: { attempts: 4, backoff: { initial_seconds: 1, factor: 3, max_seconds: 5 } } },
      clock,
    );
    const id = await start();
    const done = supervisor.supervise(id);
    for (const [index, wait] of [1_000, 3_000, 5_000].entries()) {
      await until(() => store.peek.run(id)?.retryAt !== null && clock.pendingSleeps() === 1);
      expect(store.peek.run(id)).toMatchObject({ status: "pending", retries: index + 1 });
      expect(store.peek.run(id)?.retryAt).toBe(clock.now() + wait);
      clock.advance(wait - 1);
      await new Promise((r) => setImmediate(r));
      expect(fake.children).toHaveLength(index + 1);
      clock.advance(1);
      await until(() => fake.children.length === index + 2);
    }
    const row = await done;
    expect(row).toMatchObject({ status: "completed", output: "ok", retries: 3, retryAt: null });
    expect(row.error).toBeNull();
    expect(statuses(store, id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "pending:retry!PROGRAM_ERROR",
      "running:retry",
      "completed",
    ]);
  });

  it("fails with the last attempt's error once attempts are used up", async () => {
    const clock = createManualClock();
    const { store, supervisor, start } = setup(
      (child) => failWith(child, "PROVIDER_ERROR"),
      { retry: { attempts: 2 } },
      clock,
    );
    const row = await supervisor.supervise(await start());
    expect(row).toMatchObject({ status: "failed", retries: 1 });
    expect(row.error?.code).toBe("PROVIDER_ERROR");
    expect(statuses(store, row.id)).toEqual([
      "queued",
      "pending:first_start",
      "running:first_start",
      "pending:retry!PROVIDER_ERROR",
      "running:retry",
      "failed!PROVIDER_ERROR",
    ]);
  });

  it.each(["VALIDATION", "BUDGET_EXCEEDED", "SECRET_UNDECLARED", "CANCELLED", "NOT_FOUND"])(
    "never retries %s",
    async (code) => {
      const clock = createManualClock();
      const { supervisor, fake, start } = setup(
        (child) => failWith(child, code),
        { retry: { attempts: 5 } },
        clock,
      );
      const row = await supervisor.supervise(await start());
      expect(row).toMatchObject({ status: "failed", retries: 0, error: { code } });
      expect(fake.children).toHaveLength(1);
    },
  );

  it("retries only the codes retry_on lists", async () => {
    const clock = createManualClock();
    const { supervisor, fake, start } = setup(
      (child) => failWith(child, "PROGRAM_ERROR"),
      { retry: { attempts: 3, retry_on: ["PROVIDER_ERROR"] } },
      clock,
    );
    const row = await supervisor.supervise(await start());
    expect(row).toMatchObject({ status: "failed", retries: 0 });
    expect(fake.children).toHaveLength(1);
  });

  it("a cancel during the backoff ends the run cancelled without another attempt", async () => {
    const clock = createManualClock();
    const { store, supervisor, fake, start } = setup(
      (child) => failWith(child, "PROGRAM_ERROR"),
      { retry: { attempts: 3, backoff: { initial_seconds: 60 } } },
      clock,
    );
    const id = await start();
    const done = supervisor.supervise(id);
    await until(() => store.peek.run(id)?.retryAt !== null && clock.pendingSleeps() === 1);
    await supervisor.cancel(id);
    expect((await done).status).toBe("cancelled");
    expect(fake.children).toHaveLength(1);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it("a new supervisor finds the stored due time and retries only when it has passed", async () => {
    const clock = createManualClock();
    const { store, supervisor, fake, start, another } = setup(
      (child, index) => (index === 0 ? failWith(child, "PROGRAM_ERROR") : complete(child)),
      { retry: { attempts: 2, backoff: { initial_seconds: 30 } } },
      clock,
    );
    const id = await start();
    const first = supervisor.supervise(id);
    await until(() => store.peek.run(id)?.retryAt !== null && clock.pendingSleeps() === 1);
    const due = store.peek.run(id)?.retryAt;
    expect(due).toBe(clock.now() + 30_000);
    await supervisor.shutdown(0);
    await expect(first).rejects.toMatchObject({ code: "INTERNAL" });
    clock.advance(10_000); // the engine was down for 10 s of the 30 s wait

    const second = another();
    const done = second.supervise(id);
    await until(() => clock.pendingSleeps() === 1);
    clock.advance(19_999);
    await new Promise((r) => setImmediate(r));
    expect(fake.children).toHaveLength(1);
    clock.advance(1);
    const row = await done;
    expect(row).toMatchObject({ status: "completed", retries: 1, retryAt: null });
    expect(statuses(store, id).slice(-3)).toEqual(["pending:retry", "running:retry", "completed"]);
  });
});

describe("max_duration_seconds counts the time passes are alive", () => {
  it("keeps the tally across attempts and leaves out the backoff between them", async () => {
    const clock = createManualClock();
    const { store, supervisor, fake, start } = setup(
      (child, index) => {
        if (index > 0) return;
        // The first attempt runs 3 s, then fails.
        child.once("parent-message", () => clock.advance(3_000));
        failWith(child, "PROGRAM_ERROR");
      },
      {
        budget: { max_duration_seconds: 5 },
        retry: { attempts: 2, backoff: { initial_seconds: 3_600 } },
      },
      clock,
    );
    const id = await start();
    const done = supervisor.supervise(id);
    await until(() => store.peek.run(id)?.retryAt !== null && clock.pendingSleeps() === 1);
    expect(store.peek.run(id)?.activeMs).toBe(3_000);
    clock.advance(3_600_000); // an hour of backoff: not the run's active time
    await until(() => fake.children.length === 2 && clock.pendingSleeps() === 1);
    clock.advance(1_999);
    await new Promise((r) => setImmediate(r));
    expect(fake.children[1]!.signals).toEqual([]);
    clock.advance(1);
    const row = await done;
    expect(fake.children[1]!.signals).toEqual(["SIGKILL"]);
    expect(row).toMatchObject({ status: "failed", activeMs: 5_000 });
    expect(row.error?.message).toContain("budget.max_duration_seconds (5)");
  });

  it("leaves out engine downtime, which deadline_seconds counts", async () => {
    for (const budget of [{ max_duration_seconds: 5 }, { deadline_seconds: 5 }]) {
      const clock = createManualClock();
      const { store, supervisor, fake, start, another } = setup(() => undefined, { budget }, clock);
      const id = await start();
      const first = supervisor.supervise(id);
      await until(() => store.peek.run(id)?.status === "running" && clock.pendingSleeps() === 1);
      clock.advance(2_000);
      await supervisor.shutdown(0);
      await expect(first).rejects.toMatchObject({ code: "INTERNAL" });
      // The engine died mid-pass: its 2 s were never added. It stays down for a minute.
      expect(store.peek.run(id)?.activeMs).toBe(0);
      clock.advance(60_000);

      const second = another();
      const done = second.supervise(id);
      if ("deadline_seconds" in budget) {
        const row = await done;
        expect(row.error?.message).toContain("budget.deadline_seconds (5)");
        expect(fake.children).toHaveLength(1);
        continue;
      }
      await until(() => fake.children.length === 2 && clock.pendingSleeps() === 1);
      clock.advance(4_999);
      await new Promise((r) => setImmediate(r));
      expect(fake.children[1]!.signals).toEqual([]);
      clock.advance(1);
      const row = await done;
      expect(row).toMatchObject({ status: "failed", activeMs: 5_000 });
      expect(row.error?.message).toContain("budget.max_duration_seconds (5)");
    }
  });

  it("fails a pass at once when the tally already spent the budget", async () => {
    const clock = createManualClock();
    const { store, supervisor, fake, start } = setup(
      () => undefined,
      { budget: { max_duration_seconds: 2 } },
      clock,
    );
    const id = await start();
    await store.addActiveMs(id, 2_000);
    const row = await supervisor.supervise(id);
    expect(row.error?.message).toContain("budget.max_duration_seconds (2)");
    expect(fake.children).toHaveLength(0);
  });
});

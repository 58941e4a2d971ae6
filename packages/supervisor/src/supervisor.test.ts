// RunSupervisor with a fake launch, the in-memory store and a manual clock: crash accounting,
// spawn failures, signals and budgets, store failures, and the races an asynchronous store opens
// (writes in flight while a cancel, an exit or usage reports arrive) — no Node processes.
import { afterAll, describe, expect, it } from "vitest";
import type { JsonValue } from "@promenade/workflow";
import type { PublishedEvent } from "@promenade/workflow/records";
import { RunSupervisor } from "./supervisor.ts";
import type { SupervisorOptions } from "./supervisor.ts";
import type { StatusChange, SupervisorStore } from "./ports.ts";
import { completeWith, createFakeLaunch, createInMemorySupervisorStore } from "./testing/index.ts";
import { createManualClock } from "@promenade/workflow/testing";
import type {
  FakeChild,
  InMemorySupervisorStore,
  InMemorySupervisorStoreOptions,
} from "./testing/index.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(
  script: (child: FakeChild, index: number) => void,
  meta: Record<string, unknown> = {},
  options: Partial<SupervisorOptions> = {},
  storeOptions: InMemorySupervisorStoreOptions = {},
) {
  const store = createInMemorySupervisorStore(storeOptions);
  const fake = createFakeLaunch(script);
  const logs: string[] = [];
  const published: PublishedEvent[] = [];
  store.subscribe((row) => published.push(row));
  const dataDir = mkdtempSync(join(tmpdir(), "promenade-supervisor-unit-"));
  dataDirs.push(dataDir);
  const supervisor = new RunSupervisor({
    store,
    dataDir,
    childEntryPath: "/nonexistent/child.js",
    sdkPackageDir: tmpdir(),
    env: new Map(),
    processEnv: {},
    envLabel: "the test env",
    launch: fake.launch,
    log: (line) => logs.push(line),
    priceUsage: (_model, usage) => (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0),
    ...options,
  });
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
  const start = async (input?: JsonValue): Promise<string> => {
    const { run } = await store.createRun({
      workflowId: workflow.id,
      triggerKind: "manual",
      ...(input === undefined ? {} : { input }),
    });
    return run.id;
  };
  return { store, supervisor, fake, logs, published, start };
}

function statuses(store: InMemorySupervisorStore, runId: string): string[] {
  return store.peek
    .events(runId)
    .flatMap((e) => (e.event.kind === "run_status" ? [e.event.status] : []));
}

/** Per run: the cursors the store published, in publish (commit) order. */
function publishedCursors(published: readonly PublishedEvent[], runId: string): number[] {
  return published.filter((e) => e.runId === runId).map((e) => e.cursor);
}

function strictlyIncreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v > (values[i - 1] ?? 0));
}

/** Polls `check` once per turn of the event loop, for up to 5 s (timers, e.g. the pool's refill, fire meanwhile). */
async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!check() && Date.now() < end) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error("condition not met");
}

/**
 * Holds the first call of `method` whose arguments match until `release()`: the store call is
 * in flight (issued, not committed) for as long as the test wants.
 */
function holdNext<K extends keyof Required<SupervisorStore>>(
  store: SupervisorStore,
  method: K,
  matches: (...args: Parameters<Required<SupervisorStore>[K]>) => boolean,
): { reached: Promise<void>; release: () => void } {
  const found = store[method];
  if (found === undefined) throw new Error(`the store has no ${method}`);
  const original = found.bind(store) as (...args: unknown[]) => unknown;
  let arrive!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (arrive = r));
  const released = new Promise<void>((r) => (release = r));
  let used = false;
  (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    if (used || !matches(...(args as Parameters<Required<SupervisorStore>[K]>))) {
      return original(...args);
    }
    used = true;
    arrive();
    return released.then(() => original(...args));
  };
  return { reached, release };
}

describe("RunSupervisor (fake processes)", () => {
  it("sends init with the run's paths, input, config and env-secret names", async () => {
    const { supervisor, start, fake } = setup(
      completeWith("ok"),
      {
        permissions: { secrets: [{ name: "TOKEN" }] },
        env: { API: "${{ secrets.TOKEN }}" },
      },
      { env: new Map([["TOKEN", "tok-value"]]) },
    );
    const id = await start({ n: 1 });
    const row = await supervisor.supervise(id);
    expect(row.error).toBeNull();
    expect(row.status).toBe("completed");
    const child = fake.children[0]!;
    expect(child.init).toMatchObject({
      type: "init",
      runId: id,
      input: { n: 1 },
      config: {},
      skillsDir: null,
      envSecrets: { API: "TOKEN" },
    });
    expect(child.init).not.toHaveProperty("env");
    expect(String(child.init?.programPath)).toMatch(/program[/\\]index\.mjs$/);
    expect(child.args.cwd).toBe(child.init?.workspaceDir);
    expect(child.args.env.API).toBe("tok-value");
  });

  it("treats a launch that throws as a crash and ends CRASHED once restarts run out", async () => {
    const { supervisor, start, fake } = setup(
      () => {
        throw new Error("ENOENT node");
      },
      {},
      { maxRestarts: 1 },
    );
    const row = await supervisor.supervise(await start());
    expect(row.error?.code).toBe("CRASHED");
    expect(row.error?.message).toContain("spawn failed");
    expect(row.restarts).toBe(2);
    expect(fake.children).toHaveLength(2);
  });

  it("counts an exit after an unrelated signal as a crash and names it", async () => {
    const { supervisor, start } = setup(
      (child) => child.once("parent-message", () => child.exit(null, "SIGSEGV")),
      {},
      { maxRestarts: 0 },
    );
    const row = await supervisor.supervise(await start());
    expect(row.error?.message).toContain("signal SIGSEGV");
  });

  it("SIGKILLs at the duration deadline measured by the injected clock", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      () => undefined,
      { budget: { max_duration_seconds: 5 } },
      { clock },
    );
    const id = await start();
    const done = supervisor.supervise(id);
    // The process is created on a later turn than the deadline is armed.
    await until(() => clock.pendingSleeps() > 0 && fake.children.length === 1);
    clock.advance(4_999);
    expect(fake.children[0]!.signals).toEqual([]);
    clock.advance(1);
    const row = await done;
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    expect(row.error).toEqual({
      code: "BUDGET_EXCEEDED",
      message: expect.stringContaining("budget.max_duration_seconds (5)"),
    });
    expect(statuses(store, id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("SIGKILLs at budget.deadline_seconds measured by the injected clock", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      () => undefined,
      { budget: { deadline_seconds: 1 } },
      { clock },
    );
    const id = await start();
    const done = supervisor.supervise(id);
    // The process is created on a later turn than the deadline is armed.
    await until(() => clock.pendingSleeps() > 0 && fake.children.length === 1);
    clock.advance(999);
    expect(fake.children[0]!.signals).toEqual([]);
    clock.advance(1);
    const row = await done;
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    expect(row.status).toBe("failed");
    expect(row.error).toEqual({
      code: "BUDGET_EXCEEDED",
      message: expect.stringContaining("budget.deadline_seconds (1)"),
    });
    expect(statuses(store, id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it.each([
    {
      budget: { max_duration_seconds: 3, deadline_seconds: 7 },
      at: 3_000,
      named: "max_duration_seconds (3)",
      other: "deadline_seconds",
    },
    {
      budget: { max_duration_seconds: 7, deadline_seconds: 3 },
      at: 3_000,
      named: "deadline_seconds (3)",
      other: "max_duration_seconds",
    },
  ])(
    "arms one timer at the sooner of both wall-clock budgets and names it ($named)",
    async ({ budget, at, named, other }) => {
      const clock = createManualClock();
      const { supervisor, start, fake } = setup(() => undefined, { budget }, { clock });
      const id = await start();
      const done = supervisor.supervise(id);
      // The process is created on a later turn than the deadline is armed.
      await until(() => clock.pendingSleeps() > 0 && fake.children.length === 1);
      expect(clock.pendingSleeps()).toBe(1);
      clock.advance(at - 1);
      expect(fake.children[0]!.signals).toEqual([]);
      clock.advance(1);
      const row = await done;
      expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
      expect(row.error?.code).toBe("BUDGET_EXCEEDED");
      expect(row.error?.message).toContain(`budget.${named}`);
      expect(row.error?.message).not.toContain(other);
    },
  );

  it("cancels with SIGTERM, then SIGKILL once cancelGraceMs has passed", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      (child) => {
        child.exitOnSigterm = false;
      },
      {},
      { clock, cancelGraceMs: 1_000 },
    );
    const id = await start();
    const done = supervisor.supervise(id);
    await until(() => fake.children[0]?.init !== undefined);
    await until(() => store.peek.run(id)?.status === "running");
    const cancelled = supervisor.cancel(id);
    expect(fake.children[0]!.signals).toEqual(["SIGTERM"]);
    await until(() => store.peek.run(id)?.status === "cancelling");
    clock.advance(999);
    await new Promise((r) => setImmediate(r));
    expect(fake.children[0]!.signals).toEqual(["SIGTERM"]);
    clock.advance(1);
    await cancelled;
    expect(fake.children[0]!.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect((await done).status).toBe("cancelled");
    expect(statuses(store, id)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
  });

  it("kills on the first usage report that breaks max_tokens and keeps the first reason", async () => {
    const { supervisor, start, fake } = setup(
      (child) => {
        child.once("parent-message", () => {
          child.post({
            type: "report_usage",
            modelRef: "m",
            usage: { inputTokens: 40, outputTokens: 20 },
          });
          child.post({
            type: "report_usage",
            modelRef: "m",
            usage: { inputTokens: 50, totalTokens: 99 },
          });
        });
      },
      { budget: { max_tokens: 100, max_usd: 1 } },
    );
    const row = await supervisor.supervise(await start());
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toContain("budget.max_tokens (100)");
    expect([row.tokensIn, row.tokensOut]).toEqual([90, 20]);
  });

  it("does not budget-kill for usage that arrives after the program reported done", async () => {
    const { supervisor, start, fake } = setup(
      (child) => {
        child.once("parent-message", () => {
          child.post({ type: "done", output: 1, outputDeclared: true });
          child.post({ type: "report_usage", modelRef: "m", usage: { inputTokens: 10_000 } });
          child.exit(0);
        });
      },
      { budget: { max_tokens: 10 } },
    );
    const row = await supervisor.supervise(await start());
    expect(row.error).toBeNull();
    expect(row.status).toBe("completed");
    expect(fake.children[0]!.signals).toEqual([]);
  });

  it("ends INTERNAL when the store refuses the run's events, and stops the process", async () => {
    const { supervisor, start, store, fake, logs } = setup((child) => {
      child.once("parent-message", () => {
        child.write("stdout", "hello\n");
      });
    });
    const append = store.appendEvents.bind(store);
    store.appendEvents = async (runId, rows) => {
      if (rows.some((r) => r.event.kind === "program_output")) throw new Error("disk full");
      await append(runId, rows);
    };
    const id = await start();
    const row = await supervisor.supervise(id);
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("INTERNAL");
    expect(row.error?.message).toContain("disk full");
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    expect(logs.some((l) => l.includes("could not persist events: disk full"))).toBe(true);
    expect(statuses(store, id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("fails a run whose workflow row is gone with INTERNAL, without spawning", async () => {
    const { supervisor, start, store, fake } = setup(completeWith(1));
    const id = await start();
    const getWorkflowById = store.getWorkflowById.bind(store);
    store.getWorkflowById = () => null;
    const row = await supervisor.supervise(id);
    store.getWorkflowById = getWorkflowById;
    expect(row.error?.code).toBe("INTERNAL");
    expect(statuses(store, id)).toEqual(["queued", "failed"]);
    expect(fake.children).toHaveLength(0);
  });

  it("returns one promise per run; the store publishes each event once, the terminal one last", async () => {
    const { supervisor, start, published, store } = setup((child) => {
      child.once("parent-message", () => {
        child.write("stdout", "out\n");
        child.post({ type: "emit", body: { kind: "phase", name: "p", id: "phase-1" } });
        child.post({ type: "done", output: "x", outputDeclared: true });
        child.exit(0);
      });
    });
    const id = await start();
    const a = supervisor.supervise(id);
    expect(supervisor.supervise(id)).toBe(a);
    expect(supervisor.isExecuting(id)).toBe(true);
    const row = await a;
    expect(row.status).toBe("completed");
    expect(supervisor.isExecuting(id)).toBe(false);
    expect(await supervisor.supervise(id)).toEqual(row);
    const mine = published.filter((e) => e.runId === id);
    expect(mine.map((e) => e.cursor)).toEqual(store.peek.events(id).map((e) => e.cursor));
    expect(mine.every((e) => e.workflowSlug === "wf")).toBe(true);
    expect(mine.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
    expect(
      mine.filter((e) => e.event.kind === "run_status" && e.event.status === "completed"),
    ).toHaveLength(1);
    expect(mine.map((e) => e.event.kind)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "program_output",
      "phase",
      "output",
      "run_status",
    ]);
  });

  it("answers unknown host methods with UNSUPPORTED and malformed calls are ignored", async () => {
    const { supervisor, start, fake, logs } = setup((child) => {
      child.once("parent-message", () => {
        child.post({ type: "host_call", callId: 1, method: "teleport", args: {} });
        child.post({
          type: "host_call",
          callId: 2,
          method: "mcp_token",
          args: { serverUrl: "http://x" },
        });
        child.post({ type: "host_call", callId: "three", method: "get_secret", args: {} });
        setTimeout(() => {
          child.post({ type: "done", output: null, outputDeclared: false });
          child.exit(0);
        }, 20);
      });
    });
    await supervisor.supervise(await start());
    const results = fake.children[0]!.received.filter(
      (m) => (m as { type: string }).type === "host_result",
    );
    expect(results).toEqual([
      {
        type: "host_result",
        callId: 1,
        result: { ok: false, error: expect.objectContaining({ code: "UNSUPPORTED" }) },
      },
      {
        type: "host_result",
        callId: 2,
        result: { ok: false, error: expect.objectContaining({ code: "UNSUPPORTED" }) },
      },
    ]);
    expect(logs.some((l) => l.includes("malformed"))).toBe(true);
  });

  it("serves runs from the warm pool: one process per run, env in init, refilled in the background", async () => {
    const { supervisor, start, fake } = setup(
      (child) => {
        child.once("parent-message", () => {
          child.post({ type: "done", output: null, outputDeclared: false });
          child.exit(0);
        });
      },
      { env: { MODE: "pooled" } },
      { pool: { size: 2 }, processEnv: { BASE: "1" } },
    );
    await until(() => fake.children.length === 2);
    const first = await supervisor.supervise(await start());
    const second = await supervisor.supervise(await start());
    expect([first.status, second.status]).toEqual(["completed", "completed"]);
    await until(() => fake.children.length === 4);
    const used = fake.children.filter((c) => c.init !== undefined);
    expect(used).toHaveLength(2);
    for (const child of used) {
      expect(child.args.env).toEqual({ BASE: "1" });
      expect(child.init?.env).toEqual({ BASE: "1", MODE: "pooled" });
    }
    expect(
      fake.children.every(
        (c) => c.received.filter((m) => (m as { type: string }).type === "init").length <= 1,
      ),
    ).toBe(true);
    await supervisor.shutdown();
    expect(fake.children.slice(2).every((c) => c.signals.includes("SIGKILL"))).toBe(true);
  });

  it("rejects bad numeric options with VALIDATION", () => {
    expect(() => setup(completeWith(1), {}, { maxRestarts: -1 })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
    expect(() => setup(completeWith(1), {}, { cancelGraceMs: 1.5 })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
  });
});

/** Lets the event loop run `count` turns. */
async function turns(count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) await new Promise((r) => setImmediate(r));
}

describe("RunSupervisor boot queue (fake processes)", () => {
  /** Fake processes that do nothing until the test boots them (see {@link boot}). */
  function booting() {
    return (_child: FakeChild) => undefined;
  }

  /** The process says it is ready, then completes its run (once it has one). */
  function boot(child: FakeChild): void {
    child.post({ type: "ready" });
    const finish = (): void => {
      child.post({ type: "done", output: null, outputDeclared: false });
      child.exit(0);
    };
    // A pooled process is sent `warm_up` once ready: it finishes on its run's `init`.
    if (child.init !== undefined) finish();
    else child.once("init", finish);
  }

  it("creates run processes after supervise returns, in start order, no more than maxBooting booting", async () => {
    const { supervisor, store, start, fake } = setup(
      booting(),
      {},
      { maxBooting: 2 },
      {
        synchronous: true,
      },
    );
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await start());
    const done = ids.map((id) => supervisor.supervise(id));
    // Nothing is created in the caller's turn.
    expect(fake.children).toHaveLength(0);
    await until(() => ids.every((id) => store.peek.run(id)?.status === "running"));
    await until(() => fake.children.length === 2);
    await turns(10);
    expect(fake.children).toHaveLength(2);
    // A process that said it is ready frees its boot slot for the next run in line.
    boot(fake.children[0]!);
    await until(() => fake.children.length === 3);
    boot(fake.children[1]!);
    boot(fake.children[2]!);
    await until(() => fake.children.length === 5);
    boot(fake.children[3]!);
    boot(fake.children[4]!);
    const rows = await Promise.all(done);
    expect(rows.map((row) => row.status)).toEqual(ids.map(() => "completed"));
    expect(fake.children.map((child) => child.init?.runId)).toEqual(ids);
  });

  it("boots as many run processes at once as the machine has cores by default", async () => {
    const cores = availableParallelism();
    const { supervisor, store, start, fake } = setup(booting(), {}, {}, { synchronous: true });
    const ids: string[] = [];
    for (let index = 0; index < cores + 2; index += 1) ids.push(await start());
    const done = ids.map((id) => supervisor.supervise(id));
    await until(() => ids.every((id) => store.peek.run(id)?.status === "running"));
    await until(() => fake.children.length === cores);
    await turns(10);
    expect(fake.children).toHaveLength(cores);
    boot(fake.children[0]!);
    await until(() => fake.children.length === cores + 1);
    await turns(10);
    expect(fake.children).toHaveLength(cores + 1);
    for (const child of fake.children.slice(1)) boot(child);
    await until(() => fake.children.length === cores + 2);
    boot(fake.children[cores + 1]!);
    const rows = await Promise.all(done);
    expect(rows.map((row) => row.status)).toEqual(ids.map(() => "completed"));
  });

  it("frees a boot slot when a process exits without saying it is ready", async () => {
    const { supervisor, start, fake } = setup(
      (child, index) => {
        if (index === 0) setImmediate(() => child.exit(1));
        else completeWith(null)(child);
      },
      {},
      { maxBooting: 1, maxRestarts: 0 },
    );
    const first = await start();
    const second = await start();
    const rows = await Promise.all([supervisor.supervise(first), supervisor.supervise(second)]);
    expect(rows.map((row) => row.status)).toEqual(["failed", "completed"]);
    expect(fake.children).toHaveLength(2);
  });

  it("ends a run cancelled while its process waits to boot as cancelled, without creating it", async () => {
    const { supervisor, store, start, fake } = setup(booting(), {}, { maxBooting: 1 });
    const first = await start();
    const second = await start();
    const firstDone = supervisor.supervise(first);
    const secondDone = supervisor.supervise(second);
    await until(() => fake.children.length === 1 && store.peek.run(second)?.status === "running");
    await supervisor.cancel(second);
    const cancelled = await secondDone;
    expect(cancelled.status).toBe("cancelled");
    expect(statuses(store, second)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
    boot(fake.children[0]!);
    expect((await firstDone).status).toBe("completed");
    await turns(10);
    expect(fake.children.map((child) => child.init?.runId)).toEqual([first]);
  });

  it("fails a run whose deadline passes while its process waits to boot, without creating it", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      booting(),
      { budget: { max_duration_seconds: 5 } },
      { maxBooting: 1, clock },
    );
    const first = await start();
    const second = await start();
    const firstDone = supervisor.supervise(first);
    const secondDone = supervisor.supervise(second);
    await until(() => fake.children.length === 1 && clock.pendingSleeps() === 2);
    clock.advance(5_000);
    const [firstRow, secondRow] = await Promise.all([firstDone, secondDone]);
    expect(firstRow.error?.code).toBe("BUDGET_EXCEEDED");
    expect(secondRow.error?.code).toBe("BUDGET_EXCEEDED");
    expect(statuses(store, second)).toEqual(["queued", "pending", "running", "failed"]);
    expect(fake.children).toHaveLength(1);
  });

  it("creates no process queued before a shutdown", async () => {
    const { supervisor, start, fake } = setup(booting(), {}, { maxBooting: 1 });
    const first = await start();
    const second = await start();
    const done = [supervisor.supervise(first), supervisor.supervise(second)];
    await until(() => fake.children.length === 1);
    await supervisor.shutdown();
    for (const promise of done) {
      await expect(promise).rejects.toMatchObject({ code: "INTERNAL" });
    }
    await turns(10);
    expect(fake.children).toHaveLength(1);
  });

  it("refills the warm pool only once no run waits for a process", async () => {
    const { supervisor, start, fake } = setup(booting(), {}, { maxBooting: 1, pool: { size: 1 } });
    await until(() => fake.children.length === 1);
    boot(fake.children[0]!);
    const ids = [await start(), await start(), await start()];
    const done = ids.map((id) => supervisor.supervise(id));
    // The first run takes the pooled process; the other two are created before any refill.
    await until(() => fake.children.length === 2);
    boot(fake.children[1]!);
    await until(() => fake.children.length === 3);
    expect(fake.children[2]!.args.cwd).toContain(ids[2]!);
    boot(fake.children[2]!);
    await until(() => fake.children.length === 4);
    expect(fake.children[3]!.init).toBeUndefined();
    expect((await Promise.all(done)).map((row) => row.status)).toEqual(ids.map(() => "completed"));
    expect(fake.children.slice(0, 3).map((child) => child.init?.runId)).toEqual(ids);
    // Only the pooled process rehearsed, before its run's init.
    const types = (child: FakeChild): unknown[] =>
      child.received.map((message) => (message as { type?: unknown }).type);
    expect(fake.children.slice(0, 3).map(types)).toEqual([["warm_up", "init"], ["init"], ["init"]]);
    await supervisor.shutdown();
  });

  it("rejects a maxBooting below 1 with VALIDATION", () => {
    expect(() => setup(completeWith(1), {}, { maxBooting: 0 })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
  });
});

describe("RunSupervisor over an asynchronous store: writes in flight", () => {
  it("lands a cancel that arrives while the running write is in flight between running and cancelled", async () => {
    const { supervisor, store, start, fake, published } = setup(() => undefined);
    const id = await start();
    const running = holdNext(
      store,
      "commitStatus",
      (_runId, change: StatusChange) => change.to === "running",
    );
    const done = supervisor.supervise(id);
    await running.reached;
    await until(() => fake.children[0]?.init !== undefined);
    const cancelled = supervisor.cancel(id);
    expect(fake.children[0]!.signals).toEqual(["SIGTERM"]);
    running.release();
    await cancelled;
    expect((await done).status).toBe("cancelled");
    expect(statuses(store, id)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
    const order = publishedCursors(published, id);
    expect(strictlyIncreasing(order)).toBe(true);
    expect(order).toEqual(store.peek.events(id).map((e) => e.cursor));
  });

  it("commits the pass's output before its terminal event when a flush is in flight at exit", async () => {
    const { supervisor, store, start, published } = setup((child) => {
      child.once("parent-message", () => {
        child.write("stdout", "first\n");
        setTimeout(() => {
          child.write("stdout", "second\n");
          child.post({ type: "emit", body: { kind: "phase", name: "late", id: "phase-1" } });
          child.post({ type: "done", output: 7, outputDeclared: true });
          child.exit(0);
        }, 5);
      });
    });
    const id = await start();
    const flush = holdNext(store, "appendEvents", (runId) => runId === id);
    const done = supervisor.supervise(id);
    await flush.reached;
    // The process reports, exits and drains while its first batch is still uncommitted.
    await new Promise((r) => setTimeout(r, 50));
    expect(store.peek.run(id)?.status).toBe("running");
    flush.release();
    const row = await done;
    expect(row).toMatchObject({ status: "completed", output: 7 });
    const kinds = store.peek.events(id).map((e) => e.event.kind);
    expect(kinds).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "program_output",
      "program_output",
      "phase",
      "output",
      "run_status",
    ]);
    const order = publishedCursors(published, id);
    expect(strictlyIncreasing(order)).toBe(true);
    expect(order).toHaveLength(kinds.length);
  });

  it("keeps cursor order equal to commit order when every store call takes a random time", async () => {
    const { supervisor, store, start, published } = setup(
      (child) => {
        child.once("parent-message", () => {
          let n = 0;
          const tick = (): void => {
            n += 1;
            child.post({ type: "emit", body: { kind: "phase", name: `p${n}`, id: `phase-${n}` } });
            if (n % 3 === 0) child.write("stdout", `line ${n}\n`);
            if (n % 7 === 0) {
              child.post({ type: "report_usage", modelRef: "m", usage: { inputTokens: 1 } });
            }
            if (n < 60) setTimeout(tick, Math.floor(Math.random() * 3));
            else {
              child.post({ type: "done", output: n, outputDeclared: true });
              child.exit(0);
            }
          };
          tick();
        });
      },
      {},
      {},
      { jitterMs: 4 },
    );
    const ids = await Promise.all([start(), start(), start()]);
    const rows = await Promise.all(ids.map((id) => supervisor.supervise(id)));
    for (const [i, row] of rows.entries()) {
      const id = ids[i]!;
      expect(row).toMatchObject({ status: "completed", output: 60, tokensIn: 8 });
      const order = publishedCursors(published, id);
      expect(strictlyIncreasing(order)).toBe(true);
      expect(order).toEqual(store.peek.events(id).map((e) => e.cursor));
      const events = store.peek.events(id);
      expect(events.filter((e) => e.event.kind === "phase")).toHaveLength(60);
      expect(events.at(-1)?.event).toMatchObject({ kind: "run_status", status: "completed" });
    }
  });

  it("adds concurrent usage reports without losing any and enforces the budget on the totals", async () => {
    const { supervisor, start, fake } = setup(
      (child) => {
        child.once("parent-message", () => {
          for (let i = 0; i < 30; i++) {
            child.post({ type: "report_usage", modelRef: "m", usage: { inputTokens: 10 } });
          }
        });
      },
      { budget: { max_tokens: 250 } },
      {},
      { jitterMs: 3 },
    );
    const row = await supervisor.supervise(await start());
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toMatch(/budget\.max_tokens \(250\): 2[6-9]0 tokens used/);
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    // Every report that reached the supervisor before the kill is in the terminal row.
    expect(row.tokensIn).toBe(300);
  });

  it("ends a run cancelled while its crash restart is being counted, never leaving it cancelling", async () => {
    const { supervisor, store, start, fake } = setup((child, index) => {
      if (index === 0) child.once("parent-message", () => child.exit(1));
    });
    const id = await start();
    const count = holdNext(store, "incrementRestarts", () => true);
    const done = supervisor.supervise(id);
    await count.reached;
    const cancelled = supervisor.cancel(id);
    count.release();
    await cancelled;
    const row = await done;
    expect(row.status).toBe("cancelled");
    expect(fake.children).toHaveLength(1);
    expect(statuses(store, id)).toEqual([
      "queued",
      "pending",
      "running",
      "cancelling",
      "cancelled",
    ]);
  });

  it("cancels a run whose supervision is still looking it up, without starting a process", async () => {
    const { supervisor, store, start, fake } = setup(completeWith(1));
    const id = await start();
    const lookup = holdNext(store, "getRun", (runId) => runId === id);
    const done = supervisor.supervise(id);
    await lookup.reached;
    const cancelled = supervisor.cancel(id);
    expect(supervisor.supervise(id)).toBe(done);
    lookup.release();
    await cancelled;
    expect((await done).status).toBe("cancelled");
    expect(fake.children).toHaveLength(0);
    expect(statuses(store, id)).toEqual(["queued", "cancelled"]);
  });

  it("joins a supervise that arrives while a cancel of the idle run is in flight", async () => {
    const { supervisor, store, start, fake } = setup(completeWith(1));
    const id = await start();
    const commit = holdNext(store, "commitStatus", (_runId, change) => change.to === "cancelled");
    const cancelled = supervisor.cancel(id);
    await commit.reached;
    const supervised = supervisor.supervise(id);
    commit.release();
    await cancelled;
    expect((await supervised).status).toBe("cancelled");
    expect(fake.children).toHaveLength(0);
    expect(statuses(store, id)).toEqual(["queued", "cancelled"]);
  });

  it("waits at shutdown for writes issued before it, and writes nothing after", async () => {
    const { supervisor, store, start, fake } = setup((child) => {
      child.once("parent-message", () => child.write("stdout", "hello\n"));
    });
    const id = await start();
    const flush = holdNext(store, "appendEvents", (runId) => runId === id);
    const done = supervisor.supervise(id);
    await flush.reached;
    let closed = false;
    const shutdown = supervisor.shutdown(100).then(() => (closed = true));
    await expect(done).rejects.toMatchObject({ code: "INTERNAL" });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    flush.release();
    await shutdown;
    expect(fake.children[0]!.signals).toContain("SIGTERM");
    expect(store.peek.events(id).map((e) => e.event.kind)).toEqual([
      "run_status",
      "run_status",
      "run_status",
      "program_output",
    ]);
    expect(store.peek.run(id)?.status).toBe("running");
  });
});

describe("RunSupervisor when the database goes away", () => {
  it("stops the pass, leaves the run for recovery with a clear log line, and recovers it later", async () => {
    const { supervisor, store, start, fake, logs } = setup((child, index) => {
      child.once("parent-message", () => {
        if (index === 0) {
          child.write("stdout", "working\n");
          return; // runs until it is stopped
        }
        child.post({ type: "done", output: "recovered", outputDeclared: true });
        child.exit(0);
      });
    });
    const id = await start();
    const done = supervisor.supervise(id);
    await until(() => store.peek.events(id).some((e) => e.event.kind === "program_output"));
    // Every call from now on fails, as when the database server is stopped.
    const methods = [
      "getRun",
      "getWorkflow",
      "getWorkflowById",
      "listRuns",
      "createRun",
      "commitStatus",
      "appendEvents",
      "incrementRestarts",
      "addRunUsage",
      "maxCursor",
      "createArtifact",
    ] as const;
    const saved = store as unknown as Record<string, unknown>;
    const originals = new Map(methods.map((m) => [m, saved[m]]));
    for (const method of methods) {
      (store as unknown as Record<string, unknown>)[method] = () =>
        Promise.reject(new Error("connection refused: the database is gone"));
    }
    fake.children[0]!.write("stdout", "more\n");
    await expect(done).rejects.toThrow("the database is gone");
    expect(fake.children[0]!.signals).toEqual(["SIGKILL"]);
    expect(supervisor.isExecuting(id)).toBe(false);
    expect(store.peek.run(id)?.status).toBe("running");
    expect(
      logs.some(
        (l) =>
          l.includes(`run ${id}: could not record the end of the run`) &&
          l.includes("left running for recovery"),
      ),
    ).toBe(true);

    // The database is back: supervising the run again resumes it from the top.
    for (const [method, fn] of originals) {
      (store as unknown as Record<string, unknown>)[method] = fn;
    }
    const row = await supervisor.recoverOne(id);
    expect(row).toMatchObject({ status: "completed", output: "recovered", restarts: 0 });
    expect(statuses(store, id)).toEqual([
      "queued",
      "pending",
      "running",
      "pending",
      "running",
      "completed",
    ]);
    expect(strictlyIncreasing(store.peek.events(id).map((e) => e.cursor))).toBe(true);
  });
});

describe("RunSupervisor over a synchronous store", () => {
  const sync = { synchronous: true } as const;

  it("cancels an idle run before cancel() returns", async () => {
    const { supervisor, store, start, fake } = setup(completeWith(1), {}, {}, sync);
    const id = await start();
    const cancelled = supervisor.cancel(id);
    expect(store.peek.run(id)?.status).toBe("cancelled");
    expect(supervisor.isExecuting(id)).toBe(false);
    await cancelled;
    expect(statuses(store, id)).toEqual(["queued", "cancelled"]);
    expect(store.peek.events(id).at(-1)?.cursor).toBe(1_000_001);
    expect(fake.children).toHaveLength(0);
  });

  it("writes cancelling and sends SIGTERM before cancel() returns", async () => {
    const { supervisor, store, start, fake } = setup(() => undefined, {}, {}, sync);
    const id = await start();
    const done = supervisor.supervise(id);
    // `running` is written while the process is still queued for creation: wait for both.
    await until(() => store.peek.run(id)?.status === "running" && fake.children.length === 1);
    const cancelled = supervisor.cancel(id);
    expect(store.peek.run(id)?.status).toBe("cancelling");
    expect(fake.children[0]!.signals).toEqual(["SIGTERM"]);
    await cancelled;
    expect((await done).status).toBe("cancelled");
  });

  it("finishes the boot sweep inside recoverOnBoot()", async () => {
    const { supervisor, store, start } = setup(completeWith(1), {}, {}, sync);
    const interrupted = await start();
    const orphan = await start();
    const queued = await start();
    store.patchRun(interrupted, { status: "cancelling" });
    store.patchRun(orphan, { status: "running", startedAt: Date.now() });
    const report = supervisor.recoverOnBoot();
    expect(report).toEqual({ resumed: [orphan, queued], cancelled: [interrupted] });
    expect(store.peek.run(interrupted)?.status).toBe("cancelled");
    expect(supervisor.isExecuting(orphan)).toBe(true);
    expect((await supervisor.supervise(orphan)).status).toBe("completed");
  });
});

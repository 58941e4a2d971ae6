// RunSupervisor with a fake launch, the in-memory store and a manual clock: crash accounting,
// spawn failures, signals and budgets, store failures — deterministic, no Node processes.
import { afterAll, describe, expect, it } from "vitest";
import type { JsonValue } from "@promenade/workflow";
import { RunSupervisor } from "./supervisor.ts";
import type { SupervisorOptions } from "./supervisor.ts";
import type { RunRow } from "./ports.ts";
import {
  completeWith,
  createFakeLaunch,
  createInMemorySupervisorStore,
  createManualClock,
} from "./testing/index.ts";
import type { FakeChild, InMemorySupervisorStore } from "./testing/index.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function setup(
  script: (child: FakeChild, index: number) => void,
  meta: Record<string, unknown> = {},
  options: Partial<SupervisorOptions> = {},
) {
  const store = createInMemorySupervisorStore();
  const fake = createFakeLaunch(script);
  const logs: string[] = [];
  const terminal: RunRow[] = [];
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
    onTerminal: (row) => terminal.push(row),
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
  const start = (input?: JsonValue): string =>
    store.transaction(() => {
      const { run } = store.createRun({
        workflowId: workflow.id,
        triggerKind: "manual",
        ...(input === undefined ? {} : { input }),
      });
      supervisor.emitQueued(run.id);
      return run.id;
    });
  return { store, supervisor, fake, logs, terminal, start };
}

function statuses(store: InMemorySupervisorStore, runId: string): string[] {
  return store
    .listEvents(runId)
    .flatMap((e) => (e.event.kind === "run_status" ? [e.event.status] : []));
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error("condition not met");
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
    const id = start({ n: 1 });
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
    const row = await supervisor.supervise(start());
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
    const row = await supervisor.supervise(start());
    expect(row.error?.message).toContain("signal SIGSEGV");
  });

  it("SIGKILLs at the duration deadline measured by the injected clock", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      () => undefined,
      { budget: { max_duration_seconds: 5 } },
      { clock },
    );
    const id = start();
    const done = supervisor.supervise(id);
    await until(() => clock.pendingSleeps() > 0);
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

  it("cancels with SIGTERM, then SIGKILL once cancelGraceMs has passed", async () => {
    const clock = createManualClock();
    const { supervisor, store, start, fake } = setup(
      (child) => {
        child.exitOnSigterm = false;
      },
      {},
      { clock, cancelGraceMs: 1_000 },
    );
    const id = start();
    const done = supervisor.supervise(id);
    await until(() => fake.children[0]?.init !== undefined);
    const cancelled = supervisor.cancel(id);
    expect(fake.children[0]!.signals).toEqual(["SIGTERM"]);
    expect(store.getRun(id)?.status).toBe("cancelling");
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
    const row = await supervisor.supervise(start());
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
    const row = await supervisor.supervise(start());
    expect(row.error).toBeNull();
    expect(row.status).toBe("completed");
    expect(fake.children[0]!.signals).toEqual([]);
  });

  it("ends INTERNAL when the store refuses the run's events", async () => {
    const { supervisor, start, store } = setup((child) => {
      child.once("parent-message", () => {
        child.write("stdout", "hello\n");
        setTimeout(() => {
          child.post({ type: "done", output: null, outputDeclared: false });
          child.exit(0);
        }, 20);
      });
    });
    const append = store.appendEvents.bind(store);
    store.appendEvents = (runId, rows) => {
      if (rows.some((r) => r.event.kind === "program_output")) throw new Error("disk full");
      append(runId, rows);
    };
    const row = await supervisor.supervise(start());
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("INTERNAL");
    expect(row.error?.message).toContain("disk full");
  });

  it("fails a run whose workflow row is gone with INTERNAL, without spawning", async () => {
    const { supervisor, start, store, fake } = setup(completeWith(1));
    const id = start();
    const getWorkflowById = store.getWorkflowById.bind(store);
    store.getWorkflowById = () => null;
    const row = await supervisor.supervise(id);
    store.getWorkflowById = getWorkflowById;
    expect(row.error?.code).toBe("INTERNAL");
    expect(statuses(store, id)).toEqual(["queued", "failed"]);
    expect(fake.children).toHaveLength(0);
  });

  it("calls onTerminal after the terminal transition and returns one promise per run", async () => {
    const { supervisor, start, terminal } = setup(completeWith("x"));
    const id = start();
    const a = supervisor.supervise(id);
    expect(supervisor.supervise(id)).toBe(a);
    expect(supervisor.isExecuting(id)).toBe(true);
    const row = await a;
    expect(row.status).toBe("completed");
    expect(supervisor.isExecuting(id)).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(terminal.map((r) => r.id)).toEqual([id]);
    expect(await supervisor.supervise(id)).toEqual(row);
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
    await supervisor.supervise(start());
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
    const first = await supervisor.supervise(start());
    const second = await supervisor.supervise(start());
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

// Budgets (duration spanning restarts, tokens, USD from usage reports) and the child runtime's
// agent seam: turn blocks, agent frames, injected host methods, memory dirs. The agent loop is
// a scripted fake plugged in by fixtures/child-entry-agent.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import { createManualClock } from "@promenade/workflow/testing";
import { createHarness, until as untilWithin } from "./harness.ts";
import type { Harness } from "./harness.ts";

const agentEntry = fileURLToPath(new URL("./fixtures/child-entry-agent.ts", import.meta.url));

let h: Harness;

/** These tests wait up to 20 s per condition (pools and floods queue runs behind each other). */
const until = (check: () => boolean, timeoutMs = 20_000): Promise<void> =>
  untilWithin(check, timeoutMs);
afterEach(async () => {
  await h.close();
});

describe("budgets", () => {
  it("kills a run at max_duration_seconds without waiting for its sleep", async () => {
    h = createHarness();
    h.deploy({ slug: "slow", budget: { max_duration_seconds: 1 } }, "await sleep(30_000);");
    const row = await h.run("slow");
    expect(row.status).toBe("failed");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toContain("budget.max_duration_seconds");
    expect(row.error?.message).toContain("1");
    expect(h.statuses(row.id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("ends a never-exiting child (busy loop) at its duration budget", async () => {
    h = createHarness();
    h.deploy({ slug: "spin", budget: { max_duration_seconds: 1 } }, "for (;;) {}");
    const row = await h.run("spin");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
  });

  it("keeps the duration deadline across crash restarts", async () => {
    // Time is the injected clock: the first pass uses 1.5 s of a 2 s budget and crashes; the
    // second pass must be killed 0.5 s after it started (a per-pass deadline would allow 2 s).
    const clock = createManualClock(Date.now());
    h = createHarness({ clock });
    const go = join(h.dataDir, "go");
    h.deploy(
      { slug: "deadline", budget: { max_duration_seconds: 2 } },
      [
        'import { existsSync, writeFileSync } from "node:fs";',
        'console.log("ready");',
        'if (!existsSync("marker")) {',
        '  writeFileSync("marker", "1");',
        `  while (!existsSync(${JSON.stringify(go)})) await sleep(20);`,
        "  process.exit(1);",
        "}",
        "await sleep(60_000);",
      ].join("\n"),
    );
    const id = await h.create("deadline");
    const done = h.supervisor.supervise(id);
    const readies = () => h.kinds(id).filter((k) => k === "program_output").length;
    await until(() => readies() === 1);
    clock.advance(1_500);
    writeFileSync(go, "");
    await until(() => readies() === 2);
    expect(h.store.peek.run(id)?.status).toBe("running");
    clock.advance(500);
    const row = await done;
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.restarts).toBe(1);
  });

  it("fails at once, without spawning, when the run's active time already spent the budget", async () => {
    let launches = 0;
    h = createHarness({
      launch: (args) => {
        launches += 1;
        throw new Error(`unexpected launch in ${args.cwd}`);
      },
    });
    h.deploy({ slug: "expired", budget: { max_duration_seconds: 1 } }, "output(1);");
    const id = await h.create("expired");
    // Started a moment ago on the wall clock, but its earlier passes already ran for 1 s.
    h.store.patchRun(id, { status: "running", startedAt: Date.now(), activeMs: 1_000 });
    const row = await h.supervisor.recoverOne(id);
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(launches).toBe(0);
    expect(h.statuses(id)).toEqual(["queued", "pending", "running", "failed"]);
  });

  it("enforces max_tokens from usage reports and records the tallies", async () => {
    h = createHarness({ childEntryPath: agentEntry });
    h.deploy(
      { slug: "tokens", budget: { max_tokens: 1000 } },
      "await agent(JSON.stringify({ usage: { inputTokens: 600, outputTokens: 600 } })); await sleep(30_000);",
    );
    const row = await h.run("tokens");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toContain("max_tokens");
    expect(row.tokensIn).toBe(600);
    expect(row.tokensOut).toBe(600);
  });

  it("enforces max_usd with the injected priceUsage during a sleep", async () => {
    const priced: string[] = [];
    h = createHarness({
      childEntryPath: agentEntry,
      priceUsage: (modelRef, usage) => {
        priced.push(modelRef);
        return ((usage.inputTokens ?? 0) / 1e6) * 3 * 1e6;
      },
    });
    h.deploy(
      { slug: "usd", budget: { max_usd: 0.01 } },
      'await agent(JSON.stringify({ model: "mystery-1", usage: { inputTokens: 10000000 } })); await sleep(30_000);',
    );
    const row = await h.run("usd");
    expect(row.error?.code).toBe("BUDGET_EXCEEDED");
    expect(row.error?.message).toContain("max_usd");
    expect(row.error?.message).toContain("approximate");
    expect(priced).toEqual(["mystery-1"]);
  });
});

describe("the agent seam of the child runtime", () => {
  it("stamps turn frames in a new cursor block with the turn's id and tallies usage", async () => {
    h = createHarness({ childEntryPath: agentEntry, priceUsage: () => 7 });
    h.deploy(
      { slug: "agentic" },
      'phase("before"); const text = await agent(JSON.stringify({ text: "hi", usage: { inputTokens: 120, outputTokens: 30 } }), { name: "writer" }); phase("after"); output(text);',
    );
    const row = await h.run("agentic");
    expect(row.status).toBe("completed");
    expect(row.output).toBe("hi");
    expect([row.tokensIn, row.tokensOut, row.usdMicros]).toEqual([120, 30, 7]);
    const events = h.events(row.id);
    const started = events.find((e) => e.event.kind === "turn_started");
    expect(started?.event).toMatchObject({ agentId: "agent-1", agentName: "writer" });
    expect(started?.cursor).toBe(
      Math.floor(started!.cursor / TURN_CURSOR_STRIDE) * TURN_CURSOR_STRIDE + 1,
    );
    const agentFrames = events.filter((e) =>
      ["turn_started", "text_start", "text_delta", "text_end", "turn_ended"].includes(e.event.kind),
    );
    expect(agentFrames).toHaveLength(5);
    expect(new Set(agentFrames.map((e) => e.event.turnId)).size).toBe(1);
    expect(agentFrames[0]?.event.turnId).not.toBe(row.id);
    const others = events.filter((e) => !agentFrames.includes(e));
    expect(others.every((e) => e.event.turnId === row.id)).toBe(true);
    const after = events.find((e) => e.event.kind === "phase" && e.event.name === "after");
    expect(Math.floor(after!.cursor / TURN_CURSOR_STRIDE)).toBe(
      Math.floor(started!.cursor / TURN_CURSOR_STRIDE),
    );
  });

  it("prices each model_call as it is written and adds the same numbers to the run's tallies", async () => {
    const seen: unknown[] = [];
    h = createHarness({
      childEntryPath: agentEntry,
      priceUsage: (modelRef, usage) => {
        seen.push([modelRef, usage]);
        return modelRef === "known"
          ? { usdMicros: 40, rate: { source: "built-in", version: "v1" }, estimated: false }
          : { usdMicros: 9, rate: { source: "default", version: "v1" }, estimated: true };
      },
    });
    const call = (model: string, extra: Record<string, unknown>) => ({
      model,
      provider: "p",
      startedAt: 1,
      endedAt: 2,
      ...extra,
    });
    const calls = [
      // A price the run process claims is replaced by the supervisor's.
      call("known", {
        usage: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 60 },
        usdMicros: 1,
        estimated: true,
      }),
      call("local-llm", { usage: { inputTokens: 5, outputTokens: 2, reasoningTokens: 1 } }),
      // A failed request: written, not priced, nothing counted.
      call("known", { error: { code: "PROVIDER_ERROR", message: "503" } }),
      // An invalid record is dropped and counts nothing.
      call("known", { usage: { inputTokens: -4 } }),
    ];
    h.deploy(
      { slug: "ledger" },
      `output(await agent(${JSON.stringify(JSON.stringify({ calls }))}));`,
    );
    const row = await h.run("ledger");
    expect(row.status).toBe("completed");
    const ledger = h
      .events(row.id)
      .map((e) => e.event)
      .filter((e) => e.kind === "model_call");
    expect(ledger.map((e) => [e.model, e.usdMicros, e.rate, e.estimated])).toEqual([
      ["known", 40, { source: "built-in", version: "v1" }, false],
      ["local-llm", 9, { source: "default", version: "v1" }, true],
      ["known", undefined, undefined, undefined],
    ]);
    expect(seen).toEqual([
      ["known", { inputTokens: 100, outputTokens: 10, cacheReadTokens: 60 }],
      ["local-llm", { inputTokens: 5, outputTokens: 2, reasoningTokens: 1 }],
      ["known", {}],
    ]);
    expect([row.tokensIn, row.tokensOut, row.usdMicros]).toEqual([105, 12, 49]);
  });

  it("routes resolve_model to the injected host method and fails UNSUPPORTED without one", async () => {
    h = createHarness({
      childEntryPath: agentEntry,
      hostMethods: {
        resolve_model: (args, ctx) =>
          Promise.resolve({ model: args.model, provider: args.provider, slug: ctx.workflow.slug }),
      },
    });
    h.deploy(
      { slug: "resolver" },
      'output(JSON.parse(await agent(JSON.stringify({ resolve: true }), { model: "m1", provider: "p1" })));',
    );
    const row = await h.run("resolver");
    expect(row.output).toEqual({ model: "m1", provider: "p1", slug: "resolver" });
    await h.close();

    h = createHarness({ childEntryPath: agentEntry });
    h.deploy({ slug: "resolver" }, "await agent(JSON.stringify({ resolve: true }));");
    const failed = await h.run("resolver");
    expect(failed.error?.code).toBe("UNSUPPORTED");
    expect(failed.error?.message).toContain("resolve_model");
  });
});

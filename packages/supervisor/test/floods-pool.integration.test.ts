// "Nothing lost at the end of a program" and floods (issue 4): every stdout line and every
// trailing phase is persisted before the terminal status; multi-byte characters are never split;
// a warm pool serves each run from its own pre-spawned process with the run's env and cwd.
import { realpathSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { RunRow } from "../src/index.ts";
import { createHarness, sourceLaunch, until as untilWithin } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;

/** These tests wait up to 20 s per condition (pools and floods queue runs behind each other). */
const until = (check: () => boolean, timeoutMs = 20_000): Promise<void> =>
  untilWithin(check, timeoutMs);
afterEach(async () => {
  await h.close();
});

function streamText(h: Harness, runId: string, stream: "stdout" | "stderr"): string {
  return h
    .events(runId)
    .map((e) => e.event)
    .filter((e) => e.kind === "program_output" && e.stream === stream)
    .map((e) => (e.kind === "program_output" ? e.text : ""))
    .join("");
}

describe("nothing lost at the end of a program", () => {
  it("persists 20,000 unflushed stdout lines before completing", async () => {
    h = createHarness();
    h.deploy(
      { slug: "chatty" },
      "for (let i = 0; i < 20000; i++) process.stdout.write(`line ${i}\\n`);",
    );
    const row = await h.run("chatty");
    expect(row.status).toBe("completed");
    expect(row.restarts).toBe(0);
    const lines = streamText(h, row.id, "stdout").split("\n").slice(0, -1);
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toBe("line 19999");
    expect(h.events(row.id).at(-1)?.event).toMatchObject({
      kind: "run_status",
      status: "completed",
    });
  });

  it("persists 1,000 phase() calls made as the last statements", async () => {
    h = createHarness();
    h.deploy({ slug: "phasey" }, "for (let i = 1; i <= 1000; i++) phase(`p${i}`);");
    const row = await h.run("phasey");
    expect(row.status).toBe("completed");
    expect(row.restarts).toBe(0);
    const phases = h.events(row.id).flatMap((e) => (e.event.kind === "phase" ? [e.event.id] : []));
    expect(phases).toHaveLength(1000);
    expect(phases.at(-1)).toBe("phase-1000");
  });

  it("survives a 100,000-line flood on both streams", async () => {
    h = createHarness();
    h.deploy(
      { slug: "flood" },
      "for (let i = 0; i < 100000; i++) { console.log(`out ${i}`); if (i % 10 === 0) console.error(`err ${i}`); }",
    );
    const row = await h.run("flood");
    expect(row.status).toBe("completed");
    expect(streamText(h, row.id, "stdout").split("\n")).toHaveLength(100001);
    expect(streamText(h, row.id, "stderr").split("\n")).toHaveLength(10001);
  });

  it("never splits a multi-byte character across program_output events", async () => {
    h = createHarness();
    h.deploy(
      { slug: "utf8" },
      [
        "const euro = Buffer.from('€');",
        "for (let i = 0; i < 2000; i++) { process.stdout.write(euro.subarray(0, 1)); process.stdout.write(euro.subarray(1)); }",
        "process.stdout.write('🎉'.repeat(30000));",
      ].join("\n"),
    );
    const row = await h.run("utf8");
    const texts = h
      .events(row.id)
      .flatMap((e) => (e.event.kind === "program_output" ? [e.event.text] : []));
    expect(texts.join("")).toBe("€".repeat(2000) + "🎉".repeat(30000));
    expect(texts.some((t) => t.includes("\uFFFD"))).toBe(false);
  });
});

describe("misbehaving runs do not disturb others", () => {
  it("keeps serving a normal run while floods, rogue IPC and busy loops run beside it", async () => {
    h = createHarness();
    h.deploy({ slug: "flood" }, "for (let i = 0; i < 100000; i++) console.log(`out ${i}`);");
    h.deploy(
      { slug: "rogue" },
      'for (let i = 0; i < 1000; i++) process.send({ type: "emit", body: { kind: i % 2 ? "run_status" : "nope" } }); for (let i = 0; i < 500; i++) process.send({ junk: i }); output("rogue done");',
    );
    h.deploy({ slug: "spin", budget: { max_duration_seconds: 1 } }, "for (;;) {}");
    h.deploy({ slug: "echo" }, "output({ echoed: input });");
    const [flood, rogue, spin, echo] = await Promise.all([
      h.run("flood"),
      h.run("rogue"),
      h.run("spin"),
      h.run("echo", 5),
    ]);
    expect(flood?.status).toBe("completed");
    expect(rogue).toMatchObject({ status: "completed", output: "rogue done" });
    expect(spin?.error?.code).toBe("BUDGET_EXCEEDED");
    expect(echo).toMatchObject({ status: "completed", output: { echoed: 5 } });
    expect(h.statuses(echo.id)).toEqual(["queued", "pending", "running", "completed"]);
  });
});

describe("warm pool", () => {
  it("serves each run from its own pre-spawned process with the run's env and cwd", async () => {
    const launchedIn: string[] = [];
    h = createHarness({
      pool: { size: 2 },
      processEnv: { BASE: "base" },
      launch: (args) => {
        launchedIn.push(args.cwd);
        return sourceLaunch(args);
      },
    });
    h.deploy(
      { slug: "where", env: { FROM_MANIFEST: "yes" } },
      "output({ pid: process.pid, cwd: process.cwd(), env: [process.env.BASE, process.env.FROM_MANIFEST], input });",
    );
    const rows: RunRow[] = [];
    for (let i = 0; i < 4; i++) {
      // Each run takes an idle pooled process; wait until the background refill has spawned one.
      await until(() => launchedIn.length >= i + 2);
      rows.push(await h.run("where", i));
    }
    expect(launchedIn.every((cwd) => cwd === h.dataDir)).toBe(true);
    const outputs = rows.map(
      (r) => r.output as { pid: number; cwd: string; env: string[]; input: number },
    );
    expect(new Set(outputs.map((o) => o.pid)).size).toBe(4);
    outputs.forEach((o, i) => {
      expect(o.env).toEqual(["base", "yes"]);
      expect(o.input).toBe(i);
      expect(o.cwd).toBe(realpathSync(`${h.dataDir}/runs/${rows[i]!.id}/workspace`));
    });
  });

  it("cancels and restarts runs served from the pool like cold ones", async () => {
    h = createHarness({ pool: { size: 1 } });
    h.deploy(
      { slug: "flaky" },
      'import { existsSync, writeFileSync } from "node:fs"; if (!existsSync("m")) { writeFileSync("m", "1"); process.exit(4); } output("ok");',
    );
    const row = await h.run("flaky");
    expect(row.output).toBe("ok");
    expect(row.restarts).toBe(1);
  });
});

// A run served by a pre-spawned (pooled) process streams its output live, like a cold one.
// What would break: pooled stdout stayed paused, so `program_output` arrived only at exit (lost
// if the engine died first) and a program printing more than a pipe buffer hung in `running`.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness, sourceLaunch, until as untilWithin } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** These tests wait up to 20 s per condition (pools and floods queue runs behind each other). */
const until = (check: () => boolean, timeoutMs = 20_000): Promise<void> =>
  untilWithin(check, timeoutMs);

describe("warm pool output", () => {
  it("persists a pooled run's output while it is still running", async () => {
    let launched = 0;
    h = createHarness({
      pool: { size: 1 },
      launch: (args) => {
        launched++;
        return sourceLaunch(args);
      },
    });
    h.deploy({ slug: "talky" }, 'console.log("before sleep"); await sleep(60_000);');
    await until(() => launched >= 1);
    const runId = await h.create("talky");
    const done = h.supervisor.supervise(runId);
    await until(() =>
      h
        .events(runId)
        .some((e) => e.event.kind === "program_output" && e.event.text.includes("before sleep")),
    );
    expect(h.supervisor.isExecuting(runId)).toBe(true);
    await h.supervisor.cancel(runId);
    expect((await done).status).toBe("cancelled");
  });

  it("completes a pooled run that prints far more than a pipe buffer", async () => {
    let launched = 0;
    h = createHarness({
      pool: { size: 1 },
      launch: (args) => {
        launched++;
        return sourceLaunch(args);
      },
    });
    h.deploy(
      { slug: "loud" },
      'const chunk = "x".repeat(1023) + "\\n"; for (let i = 0; i < 300; i++) process.stdout.write(chunk); await sleep(10); output("done");',
    );
    await until(() => launched >= 1);
    const row = await h.run("loud");
    expect(row).toMatchObject({ status: "completed", output: "done" });
    expect(h.printed(row.id).length).toBe(300 * 1024);
  });
});

// The JSON depth limit on what a run process sends, with real run processes: values nested up to
// 256 levels pass, past it the program gets (or the run ends with) a VALIDATION error naming the
// limit and where it was crossed — never INTERNAL, a stack overflow, or a silently lost event.
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness } from "./harness.ts";
import type { Harness } from "./harness.ts";

const agentEntry = fileURLToPath(new URL("./fixtures/child-entry-agent.ts", import.meta.url));
const LIMIT = "nests deeper than the 256-level JSON depth limit";

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** Program source building a value nested `levels` arrays deep (no recursion). */
const nested = (levels: number): string =>
  `(() => { let v = 1; for (let i = 0; i < ${levels}; i++) v = [v]; return v; })()`;

/** How many arrays deep a parsed value nests. */
function depthOf(value: unknown): number {
  let depth = 0;
  let current = value;
  while (Array.isArray(current)) {
    depth += 1;
    current = current[0];
  }
  return depth;
}

/** The run still works after a refusal: a plain run completes. */
async function stillHealthy(): Promise<void> {
  h.deploy({ slug: "after" }, "output('fine');");
  const row = await h.run("after");
  expect(row.status).toBe("completed");
  expect(row.output).toBe("fine");
}

describe("output() and the JSON depth limit", () => {
  it("stores an output nested 255 levels in the row and the output event", async () => {
    h = createHarness();
    h.deploy({ slug: "deep" }, `output(${nested(255)});`);
    const row = await h.run("deep");
    expect(row.status).toBe("completed");
    expect(depthOf(row.output)).toBe(255);
    const event = h.events(row.id).find((e) => e.event.kind === "output");
    expect(depthOf((event?.event as { value?: unknown } | undefined)?.value)).toBe(255);
  });

  it.each([257, 10_000])(
    "fails the run VALIDATION for an output nested %i levels",
    async (levels) => {
      h = createHarness();
      h.deploy({ slug: "deep" }, `output(${nested(levels)});`);
      const row = await h.run("deep");
      expect(row.status).toBe("failed");
      expect(row.error?.code).toBe("VALIDATION");
      expect(row.error?.message).toBe(
        `The value passed to output() ${LIMIT} at output[0][0][0][0][0][0][0][0]…[0][0].`,
      );
      expect(row.error?.hint).toMatch(/artifact/);
      expect(row.output).toBeNull();
      expect(h.kinds(row.id)).not.toContain("output");
      await stillHealthy();
    },
  );
});

describe("printing deep values", () => {
  it("captures printed text of any nesting as program output", async () => {
    h = createHarness();
    h.deploy(
      { slug: "printer" },
      [
        `console.log(JSON.stringify(${nested(255)}));`,
        `console.log(JSON.stringify(${nested(257)}));`,
        `process.stdout.write("[".repeat(10000) + "]".repeat(10000) + "\\n");`,
        `output("printed");`,
      ].join("\n"),
    );
    const row = await h.run("printer");
    expect(row.status).toBe("completed");
    const stdout = h.printed(row.id);
    const lines = stdout.trimEnd().split("\n");
    expect(lines.map((line) => line.length)).toEqual([255 * 2 + 1, 257 * 2 + 1, 20_000]);
  });
});

describe("host calls and the JSON depth limit", () => {
  it("passes a workflows.call input nested 255 levels to the child run", async () => {
    h = createHarness();
    h.deploy({ slug: "child" }, "output(input);");
    h.deploy({ slug: "parent" }, `output(await workflows.call("child", ${nested(255)}));`);
    const row = await h.run("parent");
    expect(row.status).toBe("completed");
    expect(depthOf(row.output)).toBe(255);
  });

  it.each([257, 10_000])(
    "rejects a workflows.call input and artifact metadata nested %i levels, before sending",
    async (levels) => {
      h = createHarness();
      h.deploy({ slug: "child" }, "output(input);");
      h.deploy(
        { slug: "caller" },
        [
          "const caught = async (fn) => { try { await fn(); return 'resolved'; } catch (e) { return { code: e.code, message: e.message }; } };",
          "output({",
          `  call: await caught(() => workflows.call("child", ${nested(levels)})),`,
          `  artifact: await caught(() => artifacts.write("a.txt", "text/plain", "x", { deep: ${nested(levels)} })),`,
          "});",
        ].join("\n"),
      );
      const row = await h.run("caller");
      expect(row.status).toBe("completed");
      expect(row.output).toEqual({
        call: {
          code: "VALIDATION",
          message: `workflows.call input ${LIMIT} at $[0][0][0][0][0][0][0][0]…[0][0].`,
        },
        artifact: {
          code: "VALIDATION",
          message: `artifacts.write metadata ${LIMIT} at $.deep[0][0][0][0][0][0][0]…[0][0].`,
        },
      });
      // Nothing was started or written.
      expect(h.store.peek.runs().filter((run) => run.parentRunId === row.id)).toEqual([]);
      await stillHealthy();
    },
  );

  it("answers a host call whose arguments nest too deep with the error (parent-side check)", async () => {
    h = createHarness();
    // The program talks to the channel directly, bypassing the runtime's own check.
    h.deploy(
      { slug: "raw" },
      [
        "const answer = new Promise((resolve) => process.on('message', (m) => { if (m.callId === 999) resolve(m.result); }));",
        `process.send({ type: "host_call", callId: 999, method: "write_artifact", args: { name: "a.txt", contentType: "text/plain", bodyBase64: "", metadata: { deep: ${nested(300)} } } });`,
        "output(await answer);",
      ].join("\n"),
    );
    const row = await h.run("raw");
    expect(row.status).toBe("completed");
    expect(row.output).toEqual({
      ok: false,
      error: {
        code: "VALIDATION",
        message: `The write_artifact call ${LIMIT} at args.metadata.deep[0][0][0][0][0][0][0]…[0][0].`,
        hint: expect.stringMatching(/artifact/) as unknown,
      },
    });
    await stillHealthy();
  });
});

describe("events and reports past the JSON depth limit", () => {
  it("keeps a tool result nested 255 levels", async () => {
    h = createHarness({ childEntryPath: agentEntry });
    h.deploy({ slug: "tool" }, `await agent(JSON.stringify({ deepResult: 255 })); output("ok");`);
    const row = await h.run("tool");
    expect(row.status).toBe("completed");
    const result = h.events(row.id).find((e) => e.event.kind === "tool_call_result");
    const data = (result?.event as unknown as { result: { data: { value: unknown } } }).result.data;
    expect(depthOf(data.value)).toBe(253);
  });

  it.each([257, 10_000])(
    "fails the run VALIDATION when a tool result nests %i levels (not dropped)",
    async (levels) => {
      h = createHarness({ childEntryPath: agentEntry });
      h.deploy(
        { slug: "tool" },
        `await agent(JSON.stringify({ deepResult: ${levels} })); await sleep(5000); output("unreachable");`,
      );
      const row = await h.run("tool");
      expect(row.status).toBe("failed");
      expect(row.error?.code).toBe("VALIDATION");
      expect(row.error?.message).toBe(
        `The "tool_call_result" event ${LIMIT} at event.result.data.value[0][0][0][0][0][0]…[0][0].`,
      );
      expect(h.kinds(row.id)).not.toContain("tool_call_result");
      expect(h.kinds(row.id)).not.toContain("output");
      await stillHealthy();
    },
  );

  it("fails the run VALIDATION and ends the process when a raw event or report nests too deep (parent-side check)", async () => {
    h = createHarness();
    h.deploy(
      { slug: "raw-emit" },
      [
        `process.send({ type: "emit", body: { kind: "phase", name: "p", id: "p", extra: ${nested(300)} } });`,
        "await sleep(30_000);",
      ].join("\n"),
    );
    h.deploy(
      { slug: "raw-done" },
      [
        `process.send({ type: "done", output: ${nested(300)}, outputDeclared: true });`,
        "await sleep(30_000);",
      ].join("\n"),
    );
    const started = Date.now();
    const emitted = await h.run("raw-emit");
    expect(emitted.status).toBe("failed");
    expect(emitted.error).toEqual({
      code: "VALIDATION",
      message: `The "phase" event ${LIMIT} at event.extra[0][0][0][0][0][0][0][0]…[0][0].`,
      hint: expect.stringMatching(/artifact/) as unknown,
    });
    expect(h.kinds(emitted.id)).not.toContain("phase");
    const done = await h.run("raw-done");
    expect(done.status).toBe("failed");
    expect(done.error?.code).toBe("VALIDATION");
    expect(done.error?.message).toBe(
      `The value passed to output() ${LIMIT} at output[0][0][0][0][0][0][0][0]…[0][0].`,
    );
    expect(done.output).toBeNull();
    // The processes were ended, not waited out.
    expect(Date.now() - started).toBeLessThan(20_000);
    await stillHealthy();
  });
});

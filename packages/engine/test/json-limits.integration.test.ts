/**
 * The JSON depth limit at the engine's doors (run input, deploy config), on a real SQLite file
 * and real run processes. What would break: input nested 10,000+ levels overflowing a recursive
 * walk (a RangeError surfacing as INTERNAL), or input nested about 1,000 levels being accepted
 * and the run then failing INTERNAL when SQLite's JSON functions refuse the event that carries it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEngineError } from "@promenade/workflow/errors";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;

beforeAll(() => {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path));
  engine.deployWorkflow({ program: program(manualMeta("echo"), "output(input);") });
});

afterAll(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

/** `{"a":{"a":…1…}}`, `levels` objects deep, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (isEngineError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("JSON depth limit at the engine", () => {
  it.each([255, 256])("runs input nested %i levels and stores its output", async (levels) => {
    const input = nested(levels);
    const started = engine.startRun("echo", { input: input as never });
    const done = await engine.waitForRun(started.id);
    expect(done.status).toBe("completed");
    expect(done.output).toEqual(input);
    const outputEvent = engine.store.listEvents(done.id).find((row) => row.event.kind === "output");
    expect(outputEvent?.event).toMatchObject({ kind: "output", value: input });
  });

  it.each([257, 10_000, 400_000])(
    "refuses input nested %i levels with VALIDATION naming the limit, storing nothing",
    (levels) => {
      const before = engine.store.listRuns().length;
      const { code, message } = refusal(() =>
        engine.startRun("echo", { input: nested(levels) as never }),
      );
      expect(code).toBe("VALIDATION");
      expect(message).toBe(
        'startRun("echo"): input nests deeper than the 256-level JSON depth limit at input.a.a.a.a.a.a.a.a….a.a.',
      );
      expect(engine.store.listRuns()).toHaveLength(before);
    },
  );

  it("refuses a deploy config nested 10,000 levels, storing nothing", () => {
    const { code, message } = refusal(() =>
      engine.deployWorkflow({
        program: program(manualMeta("deep-config"), "output(1);"),
        config: { deep: nested(10_000) } as never,
      }),
    );
    expect(code).toBe("VALIDATION");
    expect(message).toMatch(
      /config nests deeper than the 256-level JSON depth limit at config\.deep/,
    );
    expect(engine.store.getWorkflow("deep-config")).toBeNull();
  });

  it("keeps serving runs after every refusal", async () => {
    const done = await engine.waitForRun(engine.startRun("echo", { input: { ok: true } }).id);
    expect(done.output).toEqual({ ok: true });
  });
});

/**
 * `meta.input_schema` is enforced wherever a run gets input: `startRun` / `createRun`, child runs
 * (`workflows.call` / `workflows.run`) and cron static input (checked at deploy). A refusal is
 * `VALIDATION` naming the JSON path and the rule, and no run row is created. A schema that does
 * not compile is refused at deploy. Before, the schema was accepted and ignored.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Clock } from "@promenade/workflow/clock";
import type { Engine } from "../src/index.ts";
import { makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

const SCHEMA = {
  type: "object",
  properties: { name: { type: "string" }, times: { type: "integer", minimum: 1 } },
  required: ["name"],
  additionalProperties: false,
};

let dir: ReturnType<typeof tempDir>;
let engine: Engine;

beforeEach(() => {
  dir = tempDir();
  ({ engine } = makeEngine(dir.path));
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  dir.cleanup();
});

function deployGreet(): void {
  engine.deployWorkflow({
    program: program(manualMeta("greet", { input_schema: SCHEMA }), "output(`hi ${input.name}`);"),
  });
}

function thrown(fn: () => unknown): { code?: string; message?: string; hint?: string } {
  try {
    fn();
  } catch (error) {
    return error as { code?: string; message?: string; hint?: string };
  }
  throw new Error("expected a throw");
}

describe("input_schema at startRun", () => {
  it("refuses input that does not match, naming the path and the rule, and creates no run", () => {
    deployGreet();
    const error = thrown(() => engine.startRun("greet", { input: { name: 5 } }));
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toBe(
      'Input of workflow "greet" does not match its input_schema: input.name: expected string, got number.',
    );
    expect(error.hint).toContain("meta.input_schema");
    expect(engine.store.listRuns()).toHaveLength(0);
  });

  it("lists several problems, and refuses a missing input when the schema wants an object", () => {
    deployGreet();
    expect(thrown(() => engine.startRun("greet", { input: { times: 0, extra: 1 } })).message).toBe(
      'Input of workflow "greet" does not match its input_schema: input.name: is required; input.times: must be >= 1, got 0; input.extra: is not an allowed property.',
    );
    expect(thrown(() => engine.startRun("greet")).message).toContain(
      "input: expected object, got null",
    );
    expect(engine.store.listRuns()).toHaveLength(0);
  });

  it("starts a run whose input matches", async () => {
    deployGreet();
    const run = await engine.waitForRun(engine.startRun("greet", { input: { name: "Ada" } }).id);
    expect(run.status).toBe("completed");
    expect(run.output).toBe("hi Ada");
  });

  it("createRun (the promise twin) rejects the same way", async () => {
    deployGreet();
    await expect(engine.createRun("greet", { input: { name: [] } })).rejects.toMatchObject({
      code: "VALIDATION",
      message: expect.stringContaining("input.name: expected string, got array") as string,
    });
    expect(engine.store.listRuns()).toHaveLength(0);
  });
});

describe("input_schema at deploy", () => {
  it("refuses a schema that cannot compile, naming the keyword", () => {
    const error = thrown(() =>
      engine.deployWorkflow({
        program: program(
          manualMeta("bad-schema", { input_schema: { properties: { name: { type: "strng" } } } }),
          "output(1);",
        ),
      }),
    );
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toBe(
      'meta.input_schema is not a usable JSON Schema: meta.input_schema.properties.name.type: "strng" is not a JSON Schema type (string, number, integer, boolean, object, array, null).',
    );
    expect(engine.store.listWorkflows()).toHaveLength(0);
  });

  it("refuses a cron trigger whose static input does not match", () => {
    const error = thrown(() =>
      engine.deployWorkflow({
        program: program(
          {
            slug: "nightly",
            triggers: [{ kind: "cron", expr: "0 3 * * *", input: { name: 7 } }],
            input_schema: SCHEMA,
          },
          "output(1);",
        ),
      }),
    );
    expect(error.code).toBe("VALIDATION");
    expect(error.message).toBe(
      'triggers[0] (cron "0 3 * * *"): its input does not match meta.input_schema: triggers[0].input.name: expected string, got number.',
    );
    expect(engine.store.listWorkflows()).toHaveLength(0);
  });

  it("refuses a cron trigger without input when the schema does not allow null", () => {
    const error = thrown(() =>
      engine.deployWorkflow({
        program: program(
          {
            slug: "nightly",
            triggers: [{ kind: "cron", expr: "0 3 * * *" }],
            input_schema: SCHEMA,
          },
          "output(1);",
        ),
      }),
    );
    expect(error.message).toContain("triggers[0].input: expected object, got null");
  });
});

describe("input_schema of a cron fire", () => {
  it("a cron trigger whose input matches deploys and its fire runs with that input", async () => {
    const T0 = Date.UTC(2026, 5, 10, 12, 0, 0);
    let nowMs = T0;
    const clock: Clock = {
      now: () => nowMs,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
    const cronDir = tempDir();
    const { engine: cron } = makeEngine(cronDir.path, { clock });
    try {
      cron.deployWorkflow({
        program: program(
          {
            slug: "every-minute",
            triggers: [{ kind: "cron", expr: "* * * * *", input: { name: "cron" } }],
            input_schema: SCHEMA,
          },
          "output(`hi ${input.name}`);",
        ),
      });
      cron.tick();
      nowMs += 60_000;
      cron.tick();
      const [fired] = cron.store.listRuns();
      expect(fired?.triggerKind).toBe("cron");
      const done = await cron.waitForRun(fired!.id);
      expect(done.output).toBe("hi cron");
    } finally {
      await cron.closeGracefully({ childGraceMs: 500 });
      cronDir.cleanup();
    }
  });
});

describe("input_schema of child runs", () => {
  it("workflows.call with input that does not match fails in the parent with VALIDATION and creates no child", async () => {
    deployGreet();
    engine.deployWorkflow({
      program: program(
        manualMeta("caller"),
        'try { await workflows.call("greet", { name: 5 }); } catch (error) { output({ code: error.code, message: error.message }); }',
      ),
    });
    const parent = await engine.waitForRun(engine.startRun("caller").id);
    expect(parent.status).toBe("completed");
    expect(parent.output).toEqual({
      code: "VALIDATION",
      message:
        'workflows.call("greet"): input does not match the workflow\'s input_schema: input.name: expected string, got number.',
    });
    expect(engine.store.listRuns({ parentRunId: parent.id })).toHaveLength(0);
  });

  it("workflows.run with input that does not match fails the parent; matching input runs the child", async () => {
    deployGreet();
    engine.deployWorkflow({
      program: program(manualMeta("runner"), 'await workflows.run("greet", { nickname: "x" });'),
    });
    const failed = await engine.waitForRun(engine.startRun("runner").id);
    expect(failed.status).toBe("failed");
    expect(failed.error?.code).toBe("VALIDATION");
    expect(failed.error?.message).toContain(
      'workflows.run("greet"): input does not match the workflow\'s input_schema: input.name: is required; input.nickname: is not an allowed property.',
    );
    engine.deployWorkflow({
      program: program(
        manualMeta("good-caller"),
        'output(await workflows.call("greet", { name: "kid" }));',
      ),
    });
    const ok = await engine.waitForRun(engine.startRun("good-caller").id);
    expect(ok.output).toBe("hi kid");
  });
});

/**
 * A program written against the SDK's 0.2.x line imports every value export of that line, under
 * both import names, and runs: `runtime` names the run, its workflow and its workspace, answers
 * `UNSUPPORTED` for hosted-only parts; `shell` runs in the workspace; the retired exports pass
 * through; hosted features reject with "is not supported by the installed engine". A manifest
 * using every field the line added deploys with one notice naming what is not enforced, and its
 * `workflow_run` trigger never starts a run. A `sleep` holds the run `running` (never `sleeping`,
 * never suspended) and a past `until` returns at once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { kinds, makeEngine, program, statuses, tempDir } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const PROGRAM = `
import {
  agent, artifacts, humanInput, output, parallel, phase, secrets, sleep, workflows,
  runtime, computer, shell, normalizeReasoning, parseRunEventLenient, step, now, random, uuid,
} from "@boardwalk-labs/workflow";
import * as promenade from "@promenade/workflow";

export const meta = { slug: "line-0-2", triggers: [{ kind: "manual" }] };

const codeOf = (promise) => promise.then(() => "resolved", (error) => error.code ?? error.message);
const lenient = parseRunEventLenient({
  runId: runtime.runId, turnId: runtime.runId, seq: 1, t: 1, kind: "run_status", status: "failed",
  error: { code: "PROGRAM_ERROR", message: "m", fromTheFuture: true },
});
output({
  linked: [agent, artifacts, humanInput, parallel, phase, secrets, sleep].every((f) => f !== undefined),
  sameModule: promenade.shell === shell && promenade.runtime === runtime,
  runId: runtime.runId,
  workflowId: runtime.workflowId,
  workspaceDir: runtime.workspaceDir,
  apiToken: await codeOf(runtime.apiToken()),
  hi: shell("echo hi"),
  pwd: shell("pwd"),
  step: await step.run("double", () => 21 * 2),
  now: typeof (await now()),
  random: typeof (await random()),
  uuid: (await uuid()).length,
  reasoning: normalizeReasoning("low"),
  lenient: lenient?.error ?? null,
  schedule: await codeOf(workflows.schedule("x", {})),
  browser: await codeOf(computer.openBrowser()),
});
`;

describe("the SDK 0.2.x line in a real run", () => {
  it("links every export under both import names and answers as the line documents", async () => {
    const dir = tempDir();
    const { engine } = makeEngine(dir.path);
    cleanups.push(async () => {
      await engine.closeGracefully({ childGraceMs: 500 });
      dir.cleanup();
    });
    const workflow = engine.deployWorkflow({ program: PROGRAM });
    const { id } = engine.startRun("line-0-2");
    const run = await engine.waitForRun(id);
    expect(run.error).toBeNull();
    expect(run.status).toBe("completed");
    const workspace = (run.output as { workspaceDir: string }).workspaceDir;
    expect(run.output).toEqual({
      linked: true,
      sameModule: true,
      runId: id,
      workflowId: workflow.id,
      workspaceDir: workspace,
      apiToken: "UNSUPPORTED",
      hi: "hi",
      pwd: workspace,
      step: 42,
      now: "number",
      random: "number",
      uuid: 36,
      reasoning: { effort: "low" },
      lenient: { code: "PROGRAM_ERROR", message: "m" },
      schedule: "UNSUPPORTED",
      browser: "UNSUPPORTED",
    });
    expect(workspace).toContain(id);
  });
});

describe("the 0.2 line's manifest and sleeps in real runs", () => {
  function open(): { engine: ReturnType<typeof makeEngine>["engine"]; logs: string[] } {
    const dir = tempDir();
    const { engine, logs } = makeEngine(dir.path);
    cleanups.push(async () => {
      await engine.closeGracefully({ childGraceMs: 500 });
      dir.cleanup();
    });
    return { engine, logs };
  }

  it("deploys every added manifest field with one notice, and a workflow_run trigger never fires", async () => {
    const { engine, logs } = open();
    engine.deployWorkflow({
      program: program({ slug: "watched", triggers: [{ kind: "manual" }] }, 'output("built");'),
    });
    engine.deployWorkflow({
      program: program(
        {
          slug: "follower",
          triggers: [
            { kind: "workflow_run", workflows: ["watched"], conclusions: ["success"] },
            { kind: "manual" },
          ],
          budget: { deadline_seconds: 600 },
          recording: true,
          env: { BOARDWALK_MODE: "strict", AWS_REGION: "eu-west-1" },
          runs_on: { kind: "self-hosted" },
        },
        "output([process.env.BOARDWALK_MODE, process.env.AWS_REGION]);",
      ),
    });
    const notices = logs.filter((line) => line.includes('deploy "follower"'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("recording");
    expect(notices[0]).toContain("triggers[0] (workflow_run)");
    expect(engine.store.getWorkflow("follower")?.manifest.runs_on).toEqual({
      kind: "self-hosted",
      pool: "default",
    });
    engine.start();
    const watched = await engine.waitForRun(engine.startRun("watched").id);
    expect(watched.status).toBe("completed");
    engine.tick();
    const follower = engine.store.getWorkflow("follower");
    expect(engine.store.listRuns({ workflowId: follower!.id })).toEqual([]);
    // Started by hand, it runs with its BOARDWALK_ and AWS_ variables.
    const manual = await engine.waitForRun(engine.startRun("follower").id);
    expect(manual.output).toEqual(["strict", "eu-west-1"]);
  });

  it("holds a sleep in running, never sleeping nor suspended; a past until returns at once", async () => {
    const { engine } = open();
    engine.deployWorkflow({
      program: program(
        { slug: "napper", triggers: [{ kind: "manual" }] },
        [
          "const start = Date.now();",
          "await sleep(300);",
          "const slept = Date.now() - start;",
          // An instant in the past: the run completes instead of waiting for it.
          'await sleep({ until: "2000-01-01T00:00:00Z" });',
          "output({ slept });",
        ].join("\n"),
        { names: ["output", "sleep"] },
      ),
    });
    const { id } = engine.startRun("napper");
    const run = await engine.waitForRun(id);
    expect(run.status).toBe("completed");
    // A lower bound only: a loaded machine can make a 300 ms sleep longer, never shorter.
    expect((run.output as { slept: number }).slept).toBeGreaterThanOrEqual(300);
    expect(statuses(engine, id)).toEqual(["queued", "pending", "running", "completed"]);
    expect(kinds(engine, id)).not.toContain("suspended");
    expect(kinds(engine, id)).not.toContain("resumed");
  });
});

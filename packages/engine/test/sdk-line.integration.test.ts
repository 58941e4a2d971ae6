/**
 * A program written against the SDK's 0.2.x line imports every value export of that line, under
 * both import names, and runs: `runtime` names the run, its workflow and its workspace, answers
 * `UNSUPPORTED` for hosted-only parts; `shell` runs in the workspace; the retired exports pass
 * through; hosted features reject with "is not supported by the installed engine".
 */
import { afterEach, describe, expect, it } from "vitest";
import { makeEngine, tempDir } from "./helpers.ts";

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

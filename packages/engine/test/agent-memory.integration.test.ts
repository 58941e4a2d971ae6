/**
 * Agent memory across runs at the engine level: a memory dir is persisted only when its run
 * succeeds, so what a successful run wrote is in the next run's workspace and first provider
 * request, and what a failed run wrote is not. The provider is a real local HTTP server speaking
 * the OpenAI wire format; the scripted reply decides whether the program then fails. What breaks if
 * these fail: a failed run's half-written memory leaks into later runs, or learned memory is lost
 * between runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine, RunRow } from "../src/index.ts";
import { localInference, makeEngine, manualMeta, program, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine;
let provider: FakeProvider;

beforeEach(async () => {
  dir = tempDir();
  provider = await startFakeOpenAiProvider();
  ({ engine } = makeEngine(dir.path, {
    inference: localInference(provider.baseUrl),
  }));
  engine.deployWorkflow({
    program: program(
      manualMeta("learner"),
      [
        "const reply = await agent('work and take notes', { memory: 'mem' });",
        "if (reply.startsWith('FAIL')) throw new Error('gave up after taking notes');",
        "output(reply);",
      ].join("\n"),
      { names: ["agent", "output"] },
    ),
  });
});

afterEach(async () => {
  await engine.closeGracefully({ childGraceMs: 500 });
  await provider.close();
  dir.cleanup();
});

/** Scripts one run: the model writes `files` through `memory_write`, then answers `reply`. */
function scriptRun(files: Record<string, string>, reply: string): void {
  provider.enqueue(
    openAiToolCalls(
      Object.entries(files).map(([path, content], index) => ({
        id: `write-${index}`,
        name: "memory_write",
        arguments: { path, content },
      })),
    ),
    openAiText(reply),
  );
}

async function run(): Promise<RunRow> {
  return engine.waitForRun(engine.startRun("learner").id);
}

/** The first provider request of the run whose requests start at `index`. */
function firstRequestBody(index: number): string {
  const request = provider.requests[index];
  if (request === undefined) throw new Error(`no provider request #${index}`);
  return request.rawBody;
}

function memoryFile(runId: string, path: string): string {
  return join(dir.path, "runs", runId, "workspace", "mem", path);
}

describe("agent memory across runs", () => {
  it("does not carry memory written by a failed run into the next run", async () => {
    scriptRun({ "index.md": "notes from a doomed run" }, "FAIL: could not finish");
    const failed = await run();
    expect(failed.status).toBe("failed");
    expect(failed.error?.message).toBe("gave up after taking notes");
    // The write itself happened inside the failed run's workspace.
    expect(readFileSync(memoryFile(failed.id, "index.md"), "utf8")).toBe("notes from a doomed run");

    provider.enqueue(openAiText("fresh start"));
    const next = await run();
    expect(next.status).toBe("completed");
    const first = firstRequestBody(2);
    expect(first).toContain("(memory is empty)");
    expect(first).not.toContain("index.md");
    expect(first).not.toContain("notes from a doomed run");
    expect(existsSync(memoryFile(next.id, "index.md"))).toBe(false);
  });

  it("keeps a successful run's memory and drops a later failed run's changes to it", async () => {
    scriptRun({ "index.md": "the sky is blue" }, "learned");
    const learned = await run();
    expect(learned.status).toBe("completed");
    expect(learned.output).toBe("learned");

    // Run 2 reads what run 1 wrote, then rewrites it, adds a file, and fails.
    scriptRun({ "index.md": "the sky is green", "extra.md": "more doomed notes" }, "FAIL: oops");
    const failed = await run();
    expect(failed.status).toBe("failed");
    const second = firstRequestBody(2);
    expect(second).toContain("index.md (15 bytes)");
    expect(second).toContain("the sky is blue");

    // Run 3 sees run 1's memory as run 1 left it: none of the failed run's edits.
    provider.enqueue(openAiText("recalled"));
    const recalled = await run();
    expect(recalled.status).toBe("completed");
    const third = firstRequestBody(4);
    expect(third).toContain("index.md (15 bytes)");
    expect(third).toContain("the sky is blue");
    expect(third).not.toContain("the sky is green");
    expect(third).not.toContain("extra.md");
    expect(readFileSync(memoryFile(recalled.id, "index.md"), "utf8")).toBe("the sky is blue");
    expect(existsSync(memoryFile(recalled.id, "extra.md"))).toBe(false);
  });
});

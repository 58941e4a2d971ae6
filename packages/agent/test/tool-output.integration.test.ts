/**
 * Live tool output: the `bash` built-in's stdout and stderr reach the run as `tool_output_delta`
 * events while the command runs, redacted through the run's redactor, all before the call's
 * `tool_call_result`, while the result itself keeps its capped copy. If this breaks, a person
 * watching a long command sees nothing until it ends, or sees a secret it printed.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redactor } from "@promenade/workflow/redact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "../src/testing/index.ts";
import { tempDir } from "./helpers.ts";

let provider: FakeProvider;
let workspace: { dir: string; cleanup(): void };

beforeEach(async () => {
  provider = await startFakeOpenAiProvider();
  workspace = tempDir();
});
afterEach(async () => {
  await provider.close();
  workspace.cleanup();
});

const SECRET = "tok-live-secret-4242";

/** Prints `first`, waits for the file `go`, then prints the secret and an error line. */
const TWO_BURSTS =
  "echo first; while [ ! -e go ]; do sleep 0.02; done; echo second " + SECRET + "; ls no-such-file";

describe("bash streams its output live", () => {
  it("emits redacted tool_output_delta events in order, before the tool_call_result", async () => {
    const redactor = new Redactor();
    redactor.add("LIVE_TOKEN", SECRET);
    const fake = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider),
      redactor,
    });
    provider.enqueue(
      openAiToolCalls([{ id: "b1", name: "bash", arguments: { command: TWO_BURSTS } }]),
      openAiText("ran it"),
    );
    const running = fake.agent("run the command");
    type Delta = { toolCallId: string; stream: string; text: string };
    const deltas = (): Delta[] =>
      fake.events.flatMap((e) =>
        e.body.kind === "tool_output_delta" ? [e.body as unknown as Delta] : [],
      );
    // The second burst is printed only once the first one was seen live.
    const end = Date.now() + 20_000;
    while (!deltas().some((d) => d.stream === "stdout" && d.text.includes("first"))) {
      if (Date.now() > end) throw new Error("the first burst never arrived live");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(existsSync(join(workspace.dir, "go"))).toBe(false);
    writeFileSync(join(workspace.dir, "go"), "");
    expect(await running).toBe("ran it");

    const all = deltas();
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every((d) => d.toolCallId === "b1")).toBe(true);
    const stdout = all.filter((d) => d.stream === "stdout").map((d) => d.text);
    expect(stdout[0]).toBe("first\n");
    expect(stdout.join("")).toMatch(/^first\nsecond \S+\n$/);
    expect(stdout.join("")).not.toContain(SECRET);
    expect(stdout.join("")).toContain("LIVE_TOKEN");
    const stderr = all.filter((d) => d.stream === "stderr").map((d) => d.text);
    expect(stderr.join("")).toContain("no-such-file");
    const kinds = fake.events.map((e) => e.body.kind);
    const lastDelta = kinds.lastIndexOf("tool_output_delta");
    expect(kinds.indexOf("tool_call_executing")).toBeLessThan(kinds.indexOf("tool_output_delta"));
    expect(lastDelta).toBeLessThan(kinds.indexOf("tool_call_result"));
    // The model's copy is the capped result, redacted in the request like every tool result.
    const request = provider.requests[1]!.rawBody;
    expect(request).toContain("first\\nsecond");
    expect(request).not.toContain(SECRET);
  });

  it("emits no delta for a command that prints nothing", async () => {
    const fake = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider),
    });
    provider.enqueue(
      openAiToolCalls([{ id: "q1", name: "bash", arguments: { command: "true" } }]),
      openAiText("quiet"),
    );
    expect(await fake.agent("run true")).toBe("quiet");
    expect(fake.kinds()).not.toContain("tool_output_delta");
    expect(fake.kinds()).toContain("tool_call_result");
  });
});

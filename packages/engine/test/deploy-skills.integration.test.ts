/**
 * Folder skills and the workflow's AGENTS.md, deployed from a workflows-dir package and seen by a
 * real run process, with a fake OpenAI-compatible provider on a local HTTP port. What breaks if
 * these fail: a package's `skills/<name>/SKILL.md` folders or root `AGENTS.md` are dropped at
 * deploy, or never reach the agent of a run.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openAiText, openAiToolCalls, startFakeOpenAiProvider } from "@promenade/agent/testing";
import type { FakeProvider } from "@promenade/agent/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import { localInference, makeEngine, manualMeta, program, runToEnd, tempDir } from "./helpers.ts";

let dir: ReturnType<typeof tempDir>;
let engine: Engine | undefined;
let provider: FakeProvider;

beforeEach(async () => {
  dir = tempDir();
  provider = await startFakeOpenAiProvider();
});

afterEach(async () => {
  await engine?.closeGracefully({ childGraceMs: 500 });
  engine = undefined;
  await provider.close();
  dir.cleanup();
});

type Body = { messages: { role: string; content: string | null; tool_call_id?: string }[] };
const body = (i: number) => provider.requests[i]!.body as Body;
const firstMessage = (i: number) => body(i).messages[0]!.content ?? "";
const toolReply = (i: number, id: string) =>
  body(i).messages.find((m) => m.tool_call_id === id)?.content;
const bundle = (file: string): Promise<string> => Promise.resolve(readFileSync(file, "utf8"));

/** A package directory `<workflows>/triage/` with the given body and extra files. */
function writePackage(workflows: string, files: Record<string, string>): void {
  const root = join(workflows, "triage");
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, "index.mjs"),
    program(
      manualMeta("triage"),
      'output(await agent("triage this", { skills: ["triage", "style"], builtins: "none" }));',
      { names: ["agent", "output"] },
    ),
  );
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe("deploying a workflows-dir package with folder skills and AGENTS.md", () => {
  it("catalogs the folder skill, serves its resource file, and sends the AGENTS.md text", async () => {
    ({ engine } = makeEngine(dir.path, { inference: localInference(provider.baseUrl) }));
    const workflows = join(dir.path, "workflows");
    writePackage(workflows, {
      "skills/triage/SKILL.md":
        "---\nname: triage\ndescription: How to triage a bug\n---\n# Triage\nStep one: reproduce it.\n",
      "skills/triage/refs/labels.md": "bug, feature, question",
      "skills/style.md": "Write short sentences.",
      "AGENTS.md": "Always answer in English.",
    });
    const report = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(report.skipped).toEqual([]);
    expect(report.deployed).toEqual([expect.objectContaining({ slug: "triage", changed: true })]);

    provider.enqueue(
      openAiToolCalls([
        { id: "k1", name: "skill", arguments: { name: "triage", file: "refs/labels.md" } },
      ]),
      openAiText("triaged"),
    );
    const done = await runToEnd(engine, "triage");
    expect(done.status).toBe("completed");
    expect(done.output).toBe("triaged");
    const first = firstMessage(0);
    expect(first).toContain(
      '<AGENTS.md source="workflow" path="AGENTS.md">\nAlways answer in English.\n</AGENTS.md>',
    );
    expect(first).toContain("- triage: How to triage a bug");
    expect(first).not.toContain("Step one: reproduce it.");
    expect(first).toContain('<skill name="style">\nWrite short sentences.\n</skill>');
    expect(first.indexOf("<AGENTS.md")).toBeLessThan(first.indexOf("- triage:"));
    expect(toolReply(1, "k1")).toBe("bug, feature, question");

    const again = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(again.deployed).toEqual([expect.objectContaining({ slug: "triage", changed: false })]);
  });

  it("replaces AGENTS.md and folder skills on redeploy; without them the request has neither", async () => {
    ({ engine } = makeEngine(dir.path, { inference: localInference(provider.baseUrl) }));
    const workflows = join(dir.path, "workflows");
    writePackage(workflows, {
      "skills/triage/SKILL.md": "---\ndescription: Old triage\n---\nOld body.\n",
      "skills/style.md": "Write short sentences.",
      "AGENTS.md": "Old rules.",
    });
    await engine.deployWorkflowsFromDir(workflows, { bundle });
    writeFileSync(join(workflows, "triage", "AGENTS.md"), "New rules.");
    writeFileSync(
      join(workflows, "triage", "skills", "triage", "SKILL.md"),
      "---\ndescription: New triage\n---\nNew body.\n",
    );
    const report = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(report.deployed).toEqual([expect.objectContaining({ slug: "triage", changed: true })]);
    provider.enqueue(openAiText("one"));
    expect((await runToEnd(engine, "triage")).status).toBe("completed");
    expect(firstMessage(0)).toContain("New rules.");
    expect(firstMessage(0)).not.toContain("Old rules.");
    expect(firstMessage(0)).toContain("- triage: New triage");

    engine.deployWorkflow({
      program: readFileSync(join(workflows, "triage", "index.mjs"), "utf8"),
      skills: { triage: "Inline triage.", style: "Short." },
    });
    provider.enqueue(openAiText("two"));
    expect((await runToEnd(engine, "triage")).status).toBe("completed");
    expect(provider.requests[1]!.rawBody).not.toContain("AGENTS.md");
    expect(firstMessage(1)).toContain('<skill name="triage">\nInline triage.\n</skill>');
  });

  it("skips a package whose skill folder has no SKILL.md, naming the folder", async () => {
    ({ engine } = makeEngine(dir.path, { inference: localInference(provider.baseUrl) }));
    const workflows = join(dir.path, "workflows");
    writePackage(workflows, { "skills/triage/notes.md": "no SKILL.md here" });
    const report = await engine.deployWorkflowsFromDir(workflows, { bundle });
    expect(report.deployed).toEqual([]);
    expect(report.skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('"triage" has no SKILL.md') }),
    ]);
  });
});

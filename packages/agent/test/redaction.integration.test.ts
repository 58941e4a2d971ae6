/**
 * The canary test: a secret the program declared — in the prompt,
 * a ToolDef description, a program tool result, a real stdio MCP server's tool result, a skill
 * file, memory/index.md, a memory file read by the model, the model's own echo in its history,
 * and streamed text split across two SSE chunks — never appears in any request body the fake
 * providers recorded nor in any emitted event, and each path shows `[redacted:CANARY]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  anthropicStream,
  createFakeAgentHost,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeAnthropicProvider,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "../src/testing/index.ts";
import { Redactor } from "@promenade/workflow/redact";
import type { ToolDef } from "../src/index.ts";
import { MCP_FIXTURE, tempDir } from "./helpers.ts";

const CANARY = "canary-7f3a9c2e51d4";
const TOKEN = "[redacted:CANARY]";

let workspace: { dir: string; cleanup(): void };
const servers: FakeProvider[] = [];
beforeEach(() => {
  workspace = tempDir();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  workspace.cleanup();
});

describe("canary secret", () => {
  it("never reaches a provider request or an event on any path", async () => {
    const provider = await startFakeOpenAiProvider();
    servers.push(provider);
    const skills = join(workspace.dir, "skills");
    mkdirSync(skills);
    writeFileSync(join(skills, "ops.md"), `Ops runbook. The vault code is ${CANARY}.`);
    mkdirSync(join(workspace.dir, "mem"));
    writeFileSync(join(workspace.dir, "mem", "index.md"), `Index mentions ${CANARY}`);
    writeFileSync(join(workspace.dir, "mem", "vault.md"), `stored ${CANARY} here`);

    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      skillsDir: skills,
      resolve: resolvedFor(provider),
    });
    // What the run process does on secrets.get("CANARY").
    host.redactor.add("CANARY", CANARY);

    const received: unknown[] = [];
    const reveal: ToolDef = {
      name: "reveal",
      description: `Reveals things like ${CANARY}.`,
      inputSchema: {
        type: "object",
        properties: { hint: { type: "string", description: `e.g. ${CANARY}` } },
      },
      execute: (input) => {
        received.push(input);
        return Promise.resolve({ secret: CANARY, note: "from the program tool" });
      },
    };
    provider.enqueue(
      openAiToolCalls(
        [
          { id: "c1", name: "reveal", arguments: { hint: `model echoes ${CANARY}` } },
          { id: "c2", name: "db__lookup", arguments: { key: "vault" } },
          { id: "c3", name: "memory_read", arguments: { path: "vault.md" } },
          { id: "c4", name: "ghost", arguments: { x: CANARY } },
        ],
        { content: `Thinking about ${CANARY}` },
      ),
      openAiText(`Final answer mentions ${CANARY} twice: ${CANARY}`),
    );

    const answer = await host.agent(`Use the code ${CANARY} carefully.`, {
      tools: [reveal],
      skills: ["ops"],
      memory: "mem",
      mcp: [
        {
          name: "db",
          transport: "stdio",
          command: process.execPath,
          args: [MCP_FIXTURE],
          env: { CANARY },
        },
      ],
    });

    // The program is trusted: its tool received the model's raw input, and agent() returns raw text.
    expect(received).toEqual([{ hint: `model echoes ${CANARY}` }]);
    expect(answer).toContain(CANARY);

    expect(provider.requests).toHaveLength(2);
    for (const request of provider.requests) expect(request.rawBody).not.toContain(CANARY);
    expect(JSON.stringify(host.events)).not.toContain(CANARY);

    const [first, second] = provider.requests.map(
      (r) =>
        r.body as {
          messages: { role: string; content: string | null; tool_calls?: unknown[] }[];
          tools: { function: { description: string; parameters: unknown } }[];
        },
    );
    const firstMessage = first!.messages[0]!.content!;
    expect(firstMessage).toContain(`The vault code is ${TOKEN}.`); // skill
    expect(firstMessage).toContain(`Index mentions ${TOKEN}`); // memory index.md
    expect(firstMessage).toContain(`Use the code ${TOKEN} carefully.`); // prompt
    expect(first!.tools[0]!.function.description).toBe(`Reveals things like ${TOKEN}.`); // ToolDef description
    expect(JSON.stringify(first!.tools[0]!.function.parameters)).toContain(TOKEN); // schema strings
    const assistant = second!.messages[1]!;
    expect(assistant.content).toBe(`Thinking about ${TOKEN}`); // assistant history
    expect(JSON.stringify(assistant.tool_calls)).toContain(`model echoes ${TOKEN}`); // echoed args
    const results = second!.messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(results[0]).toBe(`{"secret":"${TOKEN}","note":"from the program tool"}`); // program tool
    expect(results[1]).toBe(`value of vault: ${TOKEN}`); // MCP tool
    expect(results[2]).toBe(`stored ${TOKEN} here`); // memory file
    const inputs = host.events
      .filter((e) => e.body.kind === "tool_call_input_complete")
      .map((e) => e.body.input);
    expect(inputs[0]).toEqual({ hint: `model echoes ${TOKEN}` });
    const finalDelta = host.events
      .filter((e) => e.body.kind === "text_delta")
      .map((e) => e.body.text);
    expect(finalDelta).toEqual([
      `Thinking about ${TOKEN}`,
      `Final answer mentions ${TOKEN} twice: ${TOKEN}`,
    ]);
  });

  it("catches the canary split across two streamed SSE chunks", async () => {
    const provider = await startFakeAnthropicProvider({
      replies: [anthropicStream({ text: ["The code is canary-7f3a", "9c2e51d4, keep it safe."] })],
    });
    servers.push(provider);
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider, { protocol: "anthropic" }),
    });
    host.redactor.add("CANARY", CANARY);
    await expect(host.agent("what is the code?")).resolves.toBe(
      `The code is ${CANARY}, keep it safe.`,
    );
    const deltas = host.events
      .filter((e) => e.body.kind === "text_delta")
      .map((e) => e.body.text as string);
    expect(deltas.join("")).toBe(`The code is ${TOKEN}, keep it safe.`);
    expect(JSON.stringify(host.events)).not.toContain(CANARY);
    expect(JSON.stringify(host.events)).not.toContain("canary-7f3a");
  });

  it("holds streamed text back with a host redactor that only offers add/redact", async () => {
    const provider = await startFakeAnthropicProvider({
      replies: [anthropicStream({ text: ["The code is canary-7f3a", "9c2e51d4, keep it safe."] })],
    });
    servers.push(provider);
    const plain = new Redactor();
    const minimal = {
      add: (label: string, value: string) => plain.add(label, value),
      redact: (text: string) => plain.redact(text),
    };
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      redactor: minimal,
      resolve: resolvedFor(provider, { protocol: "anthropic" }),
    });
    minimal.add("CANARY", CANARY);
    await host.agent(`echo ${CANARY}`);
    expect(provider.requests[0]!.rawBody).not.toContain(CANARY);
    const deltas = host.events
      .filter((e) => e.body.kind === "text_delta")
      .map((e) => e.body.text as string);
    expect(deltas).toEqual([`The code is ${TOKEN}, keep it safe.`]);
  });

  it("labels provider keys and env-sourced headers", async () => {
    const provider = await startFakeOpenAiProvider();
    servers.push(provider);
    const leak: ToolDef = {
      name: "leak",
      description: "",
      inputSchema: {},
      execute: () => Promise.resolve("key sk-live-000111222 header hdr-secret-999"),
    };
    provider.enqueue(openAiToolCalls([{ id: "c1", name: "leak" }]), openAiText("ok"));
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider, {
        provider: "azure",
        apiKey: "sk-live-000111222",
        headers: { "x-secret": "hdr-secret-999" },
        secretHeaderNames: ["x-secret"],
      }),
    });
    await host.agent("go", { tools: [leak] });
    const follow = provider.requests[1]!.rawBody;
    expect(follow).toContain("key [redacted:api-key:azure] header [redacted:header:x-secret]");
    expect(provider.requests[1]!.headers["x-secret"]).toBe("hdr-secret-999");
  });

  it("re-redacts history when a secret is registered mid-loop", async () => {
    const provider = await startFakeOpenAiProvider();
    servers.push(provider);
    const host = createFakeAgentHost({
      workspaceDir: workspace.dir,
      resolve: resolvedFor(provider),
    });
    const late = "late-secret-4242";
    const fetchSecret: ToolDef = {
      name: "fetch_secret",
      description: "",
      inputSchema: {},
      execute: () => {
        host.redactor.add("LATE", late); // a tool calling secrets.get()
        return Promise.resolve("fetched");
      },
    };
    provider.enqueue(
      openAiToolCalls([{ id: "c1", name: "fetch_secret" }], { content: `I guess it is ${late}` }),
      openAiText("ok"),
    );
    await host.agent(`maybe ${late}?`, { tools: [fetchSecret] });
    expect(provider.requests[0]!.rawBody).toContain(late); // not yet known: nothing to redact
    expect(provider.requests[1]!.rawBody).not.toContain(late);
    expect(provider.requests[1]!.rawBody).toContain("[redacted:LATE]");
  });
});

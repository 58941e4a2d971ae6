/**
 * Provider adapters over real local HTTP: wire formats of OpenAI,
 * Anthropic (SSE) and native Gemini, JSON vs event-stream responses by content type, header
 * precedence, retries with backoff, timeouts and malformed responses.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  anthropicStream,
  createFakeAgentHost,
  geminiStream,
  openAiStream,
  openAiText,
  openAiToolCalls,
  resolvedFor,
  startFakeAnthropicProvider,
  startFakeGeminiProvider,
  startFakeOpenAiProvider,
  startFakeProvider,
  type FakeProvider,
} from "../src/testing/index.ts";
import type { ResolvedModel, ToolDef } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const servers: FakeProvider[] = [];
const dirs: { cleanup(): void }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) d.cleanup();
});

async function track(p: Promise<FakeProvider>): Promise<FakeProvider> {
  const server = await p;
  servers.push(server);
  return server;
}

function hostFor(
  provider: FakeProvider,
  overrides: Partial<ResolvedModel> = {},
  sleeps?: number[],
) {
  const ws = tempDir();
  dirs.push(ws);
  return createFakeAgentHost({
    workspaceDir: ws.dir,
    resolve: resolvedFor(provider, overrides),
    sleep: (ms) => {
      sleeps?.push(ms);
      return Promise.resolve();
    },
  });
}

const double: ToolDef = {
  name: "double",
  description: "Doubles n.",
  inputSchema: { type: "object", properties: { n: { type: "number" } } },
  execute: (input) => Promise.resolve((input as { n: number }).n * 2),
};

describe("OpenAI-compatible adapter", () => {
  it("posts to <base>/chat/completions with bearer auth and exactly model/messages/tools", async () => {
    const provider = await track(startFakeOpenAiProvider());
    const host = hostFor(provider, { apiKey: "sk-test-123456", model: "gpt-4o" });
    await host.agent("hi", { tools: [double], builtins: "none" });
    await host.agent("no tools", { builtins: "none" });
    const [withTools, plain] = provider.requests;
    expect(withTools!.method).toBe("POST");
    expect(withTools!.path).toBe("/v1/chat/completions");
    expect(withTools!.headers.authorization).toBe("Bearer sk-test-123456");
    expect(withTools!.headers["content-type"]).toBe("application/json");
    expect(Object.keys(withTools!.body as object)).toEqual(["model", "messages", "tools"]);
    expect(Object.keys(plain!.body as object)).toEqual(["model", "messages"]);
    expect((plain!.body as { messages: unknown }).messages).toEqual([
      { role: "user", content: "no tools" },
    ]);
  });

  it("sends no authorization header to a keyless provider", async () => {
    const provider = await track(startFakeOpenAiProvider());
    await hostFor(provider, { apiKey: null }).agent("hi");
    expect(provider.requests[0]!.headers.authorization).toBeUndefined();
  });

  it("sends custom headers, lets them override authorization but never content-type", async () => {
    const provider = await track(startFakeOpenAiProvider());
    await hostFor(provider, {
      apiKey: "sk-test-123456",
      headers: { Authorization: "Custom scheme", "x-team": "blue", "CONTENT-TYPE": "text/plain" },
    }).agent("hi");
    const headers = provider.requests[0]!.headers;
    expect(headers.authorization).toBe("Custom scheme");
    expect(headers["x-team"]).toBe("blue");
    expect(headers["content-type"]).toBe("application/json");
  });

  it("reads an event-stream response (chunks, tool calls, usage) by content type", async () => {
    const provider = await track(
      startFakeOpenAiProvider({
        replies: [
          openAiStream([], {
            toolCalls: [{ id: "call-1", name: "double", arguments: '{"n":4}' }],
            usage: { input: 3, output: 2 },
          }),
          openAiStream(["the ", "answer ", "is 8"], { usage: { input: 4, output: 3 } }),
        ],
      }),
    );
    const host = hostFor(provider);
    await expect(host.agent("go", { tools: [double] })).resolves.toBe("the answer is 8");
    expect(host.usage.map((u) => u.usage)).toEqual([
      { inputTokens: 3, outputTokens: 2 },
      { inputTokens: 4, outputTokens: 3 },
    ]);
    const deltas = host.events.filter((e) => e.body.kind === "text_delta").map((e) => e.body.text);
    // The registered API key (16 chars) makes the streaming redactor hold back up to 15 chars.
    expect(deltas.join("")).toBe("the answer is 8");
    expect(provider.requests[1]!.rawBody).toContain('"content":"8"');
  });

  it("retries 429 then succeeds; gives up after 5 attempts with backoff delays", async () => {
    const provider = await track(
      startFakeOpenAiProvider({ replies: [{ status: 429, text: "slow down" }] }),
    );
    await expect(hostFor(provider).agent("hi")).resolves.toBe("ok");
    expect(provider.requests).toHaveLength(2);

    const failing = await track(
      startFakeProvider({ basePath: "/v1", steady: { status: 503, text: "unavailable" } }),
    );
    const sleeps: number[] = [];
    const host = hostFor(failing, {}, sleeps);
    const err = await host.agent("hi").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    expect((err as Error).message).toContain("after 5 attempts");
    expect((err as Error).message).toContain("503");
    expect(failing.requests).toHaveLength(5);
    expect(sleeps).toHaveLength(4);
    [500, 1000, 2000, 4000].forEach((base, i) => {
      expect(sleeps[i]).toBeGreaterThanOrEqual(base);
      expect(sleeps[i]).toBeLessThan(base + 250);
    });
    // The failed request is still one model call of the turn, with its error and no usage.
    const call = host.events.at(-2)!.body;
    expect(call).toMatchObject({
      kind: "model_call",
      model: "fake-model",
      error: { code: "PROVIDER_ERROR", message: expect.stringContaining("503") },
    });
    expect(call).not.toHaveProperty("usage");
    expect(host.events.at(-1)!.body).toMatchObject({
      kind: "turn_ended",
      reason: "error",
      error: { code: "PROVIDER_ERROR" },
    });
  });

  it("does not retry a 400 and names the status and body", async () => {
    const provider = await track(
      startFakeProvider({ basePath: "/v1", steady: { status: 400, text: "model not found: x" } }),
    );
    const err = await hostFor(provider)
      .agent("hi")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    expect((err as Error).message).toContain("provider returned 400");
    expect((err as Error).message).toContain("model not found: x");
    expect(provider.requests).toHaveLength(1);
  });

  it("redacts the API key echoed in an error body", async () => {
    const provider = await track(
      startFakeProvider({
        basePath: "/v1",
        steady: { status: 400, text: "bad key sk-live-abcdef123456" },
      }),
    );
    const host = hostFor(provider, { provider: "acme", apiKey: "sk-live-abcdef123456" });
    const err = await host.agent("hi").catch((e: unknown) => e);
    expect((err as Error).message).toContain("[redacted:api-key:acme]");
    expect((err as Error).message).not.toContain("sk-live-abcdef123456");
    const ended = host.events.at(-1)!.body as unknown as { error: { message: string } };
    expect(ended.error.message).toContain("[redacted:api-key:acme]");
    expect(JSON.stringify(host.events)).not.toContain("sk-live-abcdef123456");
  });

  it("rejects malformed completions with PROVIDER_ERROR", async () => {
    const provider = await track(
      startFakeOpenAiProvider({
        replies: [
          { json: { choices: [] } },
          { json: { choices: [{ message: { content: 7 } }] } },
          { text: "not json", headers: { "content-type": "application/json" } },
        ],
      }),
    );
    const host = hostFor(provider);
    for (let i = 0; i < 3; i++) {
      const err = await host.agent("hi").catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
      expect((err as Error).message).toContain("malformed");
    }
  });

  it("retries a request that exceeds request_timeout_ms", async () => {
    let first = true;
    const provider = await track(startFakeOpenAiProvider());
    const slowFetch: typeof fetch = async (input, init) => {
      if (first) {
        first = false;
        // Never answers until aborted by the adapter's timeout.
        return new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)),
        );
      }
      return fetch(input, init);
    };
    const ws = tempDir();
    dirs.push(ws);
    const host = createFakeAgentHost({
      workspaceDir: ws.dir,
      resolve: resolvedFor(provider, { requestTimeoutMs: 50 }),
      fetch: slowFetch,
      sleep: () => Promise.resolve(),
    });
    await expect(host.agent("hi")).resolves.toBe("ok");
  });

  it("treats a network failure as retryable and reports it after 5 attempts", async () => {
    const provider = await track(startFakeOpenAiProvider());
    const baseUrl = provider.baseUrl;
    await provider.close();
    const host = hostFor({ baseUrl } as FakeProvider);
    const err = await host.agent("hi").catch((e: unknown) => e);
    expect((err as Error).message).toContain("after 5 attempts");
    expect((err as Error).message).toContain("network error");
  });
});

describe("Anthropic adapter", () => {
  it("streams SSE: headers, body, partial JSON tool input and tool_result follow-up", async () => {
    const provider = await track(
      startFakeAnthropicProvider({
        replies: [
          anthropicStream({
            toolUses: [{ id: "tu-1", name: "double", partialJson: ['{"n":', "21}"] }],
            usage: { input: 12, output: 7 },
          }),
          anthropicStream({ text: ["The answer ", "is 42."], usage: { input: 20, output: 4 } }),
        ],
      }),
    );
    const host = hostFor(provider, {
      protocol: "anthropic",
      apiKey: "sk-ant-test-1",
      model: "claude-sonnet-4-5",
    });
    await expect(host.agent("double 21", { tools: [double], builtins: "none" })).resolves.toBe(
      "The answer is 42.",
    );
    const [first, second] = provider.requests;
    expect(first!.path).toBe("/v1/messages");
    expect(first!.headers["x-api-key"]).toBe("sk-ant-test-1");
    expect(first!.headers["anthropic-version"]).toBe("2023-06-01");
    expect(first!.headers["content-type"]).toBe("application/json");
    expect(first!.body).toMatchObject({
      model: "claude-sonnet-4-5",
      max_tokens: 8192,
      stream: true,
    });
    expect((first!.body as { tools: unknown }).tools).toEqual([
      { name: "double", description: "Doubles n.", input_schema: double.inputSchema },
    ]);
    expect(host.events.find((e) => e.body.kind === "tool_call_input_complete")!.body.input).toEqual(
      { n: 21 },
    );
    const messages = (second!.body as { messages: unknown[] }).messages;
    expect(messages[1]).toEqual({
      role: "assistant",
      content: [{ type: "tool_use", id: "tu-1", name: "double", input: { n: 21 } }],
    });
    expect(messages[2]).toEqual({
      role: "user",
      content: [{ type: "tool_result", tool_use_id: "tu-1", content: "42", is_error: false }],
    });
    expect(host.usage.map((u) => u.usage)).toEqual([
      { inputTokens: 12, outputTokens: 7 },
      { inputTokens: 20, outputTokens: 4 },
    ]);
    expect(host.events.at(-1)!.body.usage).toEqual({ inputTokens: 32, outputTokens: 11 });
  });

  it("past the iteration cap keeps the tool declarations with tool_choice none, so the tool history stays valid", async () => {
    const provider = await track(
      startFakeAnthropicProvider({
        replies: [
          anthropicStream({
            toolUses: [{ id: "tu-1", name: "double", partialJson: ['{"n":2}'] }],
            usage: { input: 12, output: 7 },
          }),
          anthropicStream({ text: ["four"], usage: { input: 20, output: 4 } }),
          anthropicStream({ text: ["plain"], usage: { input: 5, output: 1 } }),
        ],
      }),
    );
    const host = hostFor(provider, { protocol: "anthropic", model: "claude-sonnet-4-5" });
    await expect(
      host.agent("double 2", { tools: [double], builtins: "none", maxIterations: 1 }),
    ).resolves.toBe("four");
    const [first, last] = provider.requests.map((r) => r.body as Record<string, unknown>);
    expect(first!.tool_choice).toBeUndefined();
    expect(last!.tools).toEqual([
      { name: "double", description: "Doubles n.", input_schema: double.inputSchema },
    ]);
    expect(last!.tool_choice).toEqual({ type: "none" });
    expect((last!.messages as unknown[])[1]).toEqual({
      role: "assistant",
      content: [{ type: "tool_use", id: "tu-1", name: "double", input: { n: 2 } }],
    });
    // A request with no tool history and no tools declares none.
    await expect(host.agent("hi", { builtins: "none" })).resolves.toBe("plain");
    const plain = provider.requests[2]!.body as Record<string, unknown>;
    expect(plain).not.toHaveProperty("tools");
    expect(plain).not.toHaveProperty("tool_choice");
  });

  it("fails PROVIDER_ERROR on an error event naming its type", async () => {
    const provider = await track(
      startFakeAnthropicProvider({
        replies: [
          anthropicStream({
            text: "partial",
            extraEvents: [
              { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
            ],
          }),
        ],
      }),
    );
    const host = hostFor(provider, { protocol: "anthropic" });
    const err = await host.agent("hi").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "PROVIDER_ERROR" });
    expect((err as Error).message).toContain("overloaded_error");
    expect(host.kinds()).toEqual([
      "turn_started",
      "text_start",
      "text_delta",
      "text_end",
      "model_call",
      "turn_ended",
    ]);
  });

  it("accepts a JSON (non-streamed) message body", async () => {
    const provider = await track(
      startFakeAnthropicProvider({
        replies: [
          {
            json: {
              type: "message",
              content: [{ type: "text", text: "plain json" }],
              stop_reason: "end_turn",
              usage: { input_tokens: 2, output_tokens: 3 },
            },
          },
        ],
      }),
    );
    const host = hostFor(provider, { protocol: "anthropic", apiKey: null });
    await expect(host.agent("hi")).resolves.toBe("plain json");
    expect(provider.requests[0]!.headers["x-api-key"]).toBeUndefined();
  });
});

describe("Gemini native adapter", () => {
  it("streams generateContent with x-goog-api-key and function calls", async () => {
    const provider = await track(
      startFakeGeminiProvider({
        replies: [
          geminiStream({
            functionCalls: [{ name: "double", args: { n: 5 } }],
            usage: { input: 6, output: 2 },
          }),
          geminiStream({ text: ["ten", "!"] }),
        ],
      }),
    );
    const host = hostFor(provider, {
      protocol: "gemini",
      apiKey: "AIza-test-key",
      model: "gemini-2.0-flash",
    });
    await expect(host.agent("double 5", { tools: [double], builtins: "none" })).resolves.toBe(
      "ten!",
    );
    const [first, second] = provider.requests;
    expect(first!.path).toBe("/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
    expect(first!.headers["x-goog-api-key"]).toBe("AIza-test-key");
    expect((first!.body as { tools: unknown }).tools).toEqual([
      {
        functionDeclarations: [
          { name: "double", description: "Doubles n.", parameters: double.inputSchema },
        ],
      },
    ]);
    const contents = (second!.body as { contents: unknown[] }).contents;
    expect(contents[1]).toEqual({
      role: "model",
      parts: [{ functionCall: { name: "double", args: { n: 5 } } }],
    });
    expect(contents[2]).toEqual({
      role: "user",
      parts: [{ functionResponse: { name: "double", response: { content: "10" } } }],
    });
    expect(host.events.find((e) => e.body.kind === "tool_call_start")!.body.toolCallId).toBe(
      "call-1",
    );
  });
});

describe("stop reasons", () => {
  it("ends the loop on a tool stop that carries zero calls (both protocols)", async () => {
    const openai = await track(
      startFakeOpenAiProvider({
        replies: [
          {
            json: {
              choices: [
                { finish_reason: "tool_calls", message: { content: "no calls after all" } },
              ],
            },
          },
        ],
      }),
    );
    await expect(hostFor(openai).agent("x", { tools: [double] })).resolves.toBe(
      "no calls after all",
    );
    expect(openai.requests).toHaveLength(1);
    const anthropic = await track(
      startFakeAnthropicProvider({
        replies: [anthropicStream({ text: "nothing to call", stopReason: "tool_use" })],
      }),
    );
    await expect(
      hostFor(anthropic, { protocol: "anthropic" }).agent("x", { tools: [double] }),
    ).resolves.toBe("nothing to call");
    expect(anthropic.requests).toHaveLength(1);
  });

  it("counts every prompt token as input and every generated token as output, on each protocol", async () => {
    const anthropic = await track(
      startFakeAnthropicProvider({
        replies: [
          anthropicStream({
            text: "a",
            usage: { input: 5, cached: 80, cacheWrite: 15, output: 9 },
          }),
        ],
      }),
    );
    const gemini = await track(
      startFakeGeminiProvider({
        replies: [
          geminiStream({ text: "g", usage: { input: 50, cached: 40, output: 7, reasoning: 4 } }),
        ],
      }),
    );
    const openai = await track(
      startFakeOpenAiProvider({
        replies: [openAiText("o", { input: 50, cached: 40, output: 11, reasoning: 4 })],
      }),
    );
    const a = hostFor(anthropic, { protocol: "anthropic" });
    await a.agent("x");
    const g = hostFor(gemini, { protocol: "gemini", model: "gemini-2.0-flash" });
    await g.agent("x");
    const o = hostFor(openai);
    await o.agent("x");
    // Anthropic leaves cached tokens out of input_tokens; Gemini counts thoughts apart.
    expect(a.usage[0]!.usage).toEqual({
      inputTokens: 100,
      outputTokens: 9,
      cacheReadTokens: 80,
      cacheCreationTokens: 15,
    });
    expect(g.usage[0]!.usage).toEqual({
      inputTokens: 50,
      outputTokens: 11,
      cacheReadTokens: 40,
      reasoningTokens: 4,
    });
    expect(o.usage[0]!.usage).toEqual({
      inputTokens: 50,
      outputTokens: 11,
      cacheReadTokens: 40,
      reasoningTokens: 4,
    });
  });

  it("reports usage as given, omitting counts the provider did not send", async () => {
    const provider = await track(
      startFakeOpenAiProvider({
        replies: [{ json: { choices: [{ finish_reason: "stop", message: { content: "hi" } }] } }],
      }),
    );
    const host = hostFor(provider);
    await host.agent("x");
    expect(host.usage).toEqual([]);
    expect(host.events.at(-2)!.body).toMatchObject({ kind: "model_call", model: "fake-model" });
    expect(host.events.at(-2)!.body).not.toHaveProperty("usage");
    expect(host.events.at(-1)!.body.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});

describe("tool calls by content type", () => {
  it("handles an OpenAI tool-call reply whose finish_reason is stop", async () => {
    const reply = openAiToolCalls([{ id: "c1", name: "double", arguments: { n: 1 } }]);
    (reply.json as { choices: { finish_reason: string }[] }).choices[0]!.finish_reason = "stop";
    const provider = await track(startFakeOpenAiProvider({ replies: [reply, openAiText("2")] }));
    await expect(hostFor(provider).agent("x", { tools: [double] })).resolves.toBe("2");
  });
});

/**
 * `agent({ reasoning, attachments })` on the wire, against fake providers over real local HTTP:
 * OpenAI-compatible requests carry `reasoning_effort` and image/file content parts; Anthropic
 * requests carry a thinking budget (at least 1024 tokens, none when off) and image/document
 * blocks, and send the model's signed thinking back with the tool history; Gemini gets
 * `inlineData` / `fileData` parts. Streamed reasoning becomes `reasoning_delta` events, never
 * answer text. Bad shapes fail `VALIDATION` naming the field before any request. If this breaks,
 * programs of the line that ask a model to think harder or to look at a file silently lose that.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  anthropicStream,
  createFakeAgentHost,
  openAiText,
  resolvedFor,
  startFakeAnthropicProvider,
  startFakeGeminiProvider,
  startFakeOpenAiProvider,
  type FakeProvider,
  type FakeReply,
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

function hostFor(provider: FakeProvider, overrides: Partial<ResolvedModel> = {}) {
  const ws = tempDir();
  dirs.push(ws);
  return createFakeAgentHost({
    workspaceDir: ws.dir,
    resolve: resolvedFor(provider, overrides),
    sleep: () => Promise.resolve(),
  });
}

const PNG = Buffer.from("fake png bytes").toString("base64");
const PDF = Buffer.from("%PDF-1.4 fake").toString("base64");
const NOTES = Buffer.from("line one\nline two").toString("base64");

const double: ToolDef = {
  name: "double",
  description: "Doubles n.",
  inputSchema: { type: "object", properties: { n: { type: "number" } } },
  execute: (input) => Promise.resolve((input as { n: number }).n * 2),
};

interface Failure {
  code: string;
  message: string;
  hint?: string;
}

/** The error `call` rejects with (a resolution fails the test). */
async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (err) {
    return err as Failure;
  }
  throw new Error("expected the call to fail");
}

function bodyOf(provider: FakeProvider, index: number): Record<string, unknown> {
  return provider.requests[index]!.body as Record<string, unknown>;
}

function reasoningStream(): FakeReply {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  return {
    sse: [
      chunk({ reasoning_content: "Let me " }),
      chunk({ reasoning_content: "think." }),
      chunk({ reasoning: " Still thinking." }),
      chunk({ content: "The answer" }),
      chunk({ content: " is 4." }, "stop"),
      "data: [DONE]\n\n",
    ],
  };
}

describe("OpenAI-compatible reasoning and attachments", () => {
  it("sends reasoning_effort for an effort, nothing without one", async () => {
    const provider = await track(startFakeOpenAiProvider());
    const host = hostFor(provider);
    await host.agent("a", { builtins: "none", reasoning: "high" });
    await host.agent("b", { builtins: "none", reasoning: { effort: "low", maxTokens: 5000 } });
    await host.agent("c", { builtins: "none", reasoning: { maxTokens: 5000 } });
    await host.agent("d", { builtins: "none" });
    expect(bodyOf(provider, 0).reasoning_effort).toBe("high");
    expect(bodyOf(provider, 1).reasoning_effort).toBe("low");
    expect(Object.keys(bodyOf(provider, 2))).toEqual(["model", "messages"]);
    expect(Object.keys(bodyOf(provider, 3))).toEqual(["model", "messages"]);
  });

  it("puts images and files in the first user message as content parts", async () => {
    const provider = await track(
      startFakeOpenAiProvider({
        replies: [
          {
            json: {
              choices: [
                {
                  message: {
                    role: "assistant",
                    content: null,
                    tool_calls: [
                      {
                        id: "c1",
                        type: "function",
                        function: { name: "double", arguments: '{"n":2}' },
                      },
                    ],
                  },
                  finish_reason: "tool_calls",
                },
              ],
            },
          },
          openAiText("done"),
        ],
      }),
    );
    await hostFor(provider).agent("describe these", {
      builtins: "none",
      tools: [double],
      attachments: [
        { mimeType: "image/png", data: PNG },
        { mimeType: "image/jpeg", url: "https://example.test/cat.jpg" },
        { mimeType: "application/pdf", data: PDF, filename: "spec.pdf" },
      ],
    });
    const expected = {
      role: "user",
      content: [
        { type: "text", text: expect.stringContaining("describe these") as unknown },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: "https://example.test/cat.jpg" } },
        {
          type: "file",
          file: { filename: "spec.pdf", file_data: `data:application/pdf;base64,${PDF}` },
        },
      ],
    };
    expect((bodyOf(provider, 0).messages as unknown[])[0]).toEqual(expected);
    // Only the first user message carries them; the follow-up repeats the same history.
    const second = bodyOf(provider, 1).messages as { role: string }[];
    expect(second[0]).toEqual(expected);
    expect(second.filter((m) => m.role === "user")).toHaveLength(1);
  });

  it("refuses a non-image file by url, naming the attachment and the fix", async () => {
    const provider = await track(startFakeOpenAiProvider());
    const err = await failure(
      hostFor(provider).agent("x", {
        builtins: "none",
        attachments: [{ mimeType: "application/pdf", url: "https://example.test/a.pdf" }],
      }),
    );
    expect(err).toMatchObject({ code: "VALIDATION" });
    expect(err.message).toContain("attachments[0]");
    expect(err.hint).toContain("data");
    expect(provider.requests).toHaveLength(0);
  });

  it("turns streamed reasoning into reasoning_delta events, never answer text", async () => {
    const provider = await track(startFakeOpenAiProvider({ replies: [reasoningStream()] }));
    const host = hostFor(provider);
    await expect(host.agent("2+2?", { builtins: "none" })).resolves.toBe("The answer is 4.");
    const reasoning = host.events.filter((e) => e.body.kind === "reasoning_delta");
    expect(reasoning.map((e) => e.body.text).join("")).toBe("Let me think. Still thinking.");
    const text = host.events.filter((e) => e.body.kind === "text_delta");
    expect(text.map((e) => e.body.text).join("")).toBe("The answer is 4.");
  });

  it("keeps reasoning out of the events when the call excludes it", async () => {
    const provider = await track(startFakeOpenAiProvider({ replies: [reasoningStream()] }));
    const host = hostFor(provider);
    await host.agent("2+2?", { builtins: "none", reasoning: { effort: "low", exclude: true } });
    expect(host.events.some((e) => e.body.kind === "reasoning_delta")).toBe(false);
  });
});

describe("Anthropic reasoning and attachments", () => {
  const anthropic = { protocol: "anthropic", model: "claude-sonnet-4-5" } as const;

  it("sends a thinking budget from the effort or maxTokens, at least 1024, none when off", async () => {
    const provider = await track(startFakeAnthropicProvider());
    const host = hostFor(provider, anthropic);
    for (const reasoning of [
      "medium",
      { maxTokens: 3000 },
      { maxTokens: 10 },
      "minimal",
      { maxTokens: 20_000 },
      "none",
    ] as const) {
      await host.agent("q", { builtins: "none", reasoning });
    }
    await host.agent("q", { builtins: "none" });
    const sent = provider.requests.map((r) => r.body as Record<string, unknown>);
    expect(sent[0]!.thinking).toEqual({ type: "enabled", budget_tokens: 4096 });
    expect(sent[0]!.max_tokens).toBe(8192);
    expect(sent[1]!.thinking).toEqual({ type: "enabled", budget_tokens: 3000 });
    expect(sent[2]!.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(sent[3]!.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    // The budget must stay below max_tokens, which grows to fit it.
    expect(sent[4]!.thinking).toEqual({ type: "enabled", budget_tokens: 20_000 });
    expect(sent[4]!.max_tokens).toBe(20_000 + 8192);
    expect(sent[5]!.thinking).toBeUndefined();
    expect(sent[6]!.thinking).toBeUndefined();
  });

  it("streams thinking as reasoning_delta and sends the signed thinking back with the tool history", async () => {
    const thinkingThenTool: FakeReply = {
      sse: [
        { type: "message_start", message: { usage: { input_tokens: 5, output_tokens: 1 } } },
        {
          type: "content_block_start",
          index: 0,
          content_block: { type: "thinking", thinking: "" },
        },
        {
          type: "content_block_delta",
          index: 0,
          delta: { type: "thinking_delta", thinking: "Double " },
        },
        {
          type: "content_block_delta",
          index: 0,
          delta: { type: "thinking_delta", thinking: "it." },
        },
        {
          type: "content_block_delta",
          index: 0,
          delta: { type: "signature_delta", signature: "sig-1" },
        },
        { type: "content_block_stop", index: 0 },
        {
          type: "content_block_start",
          index: 1,
          content_block: { type: "tool_use", id: "tu-1", name: "double", input: {} },
        },
        {
          type: "content_block_delta",
          index: 1,
          delta: { type: "input_json_delta", partial_json: '{"n":3}' },
        },
        { type: "content_block_stop", index: 1 },
        { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } },
        { type: "message_stop" },
      ],
    };
    const provider = await track(
      startFakeAnthropicProvider({
        replies: [thinkingThenTool, anthropicStream({ text: "6" })],
      }),
    );
    const host = hostFor(provider, anthropic);
    await expect(
      host.agent("double 3", { builtins: "none", tools: [double], reasoning: "low" }),
    ).resolves.toBe("6");
    const reasoning = host.events.filter((e) => e.body.kind === "reasoning_delta");
    expect(reasoning.map((e) => e.body.text).join("")).toBe("Double it.");
    const messages = bodyOf(provider, 1).messages as unknown[];
    expect(messages[1]).toEqual({
      role: "assistant",
      content: [
        { type: "thinking", thinking: "Double it.", signature: "sig-1" },
        { type: "tool_use", id: "tu-1", name: "double", input: { n: 3 } },
      ],
    });
  });

  it("puts images, PDFs and text files in the first user message as blocks", async () => {
    const provider = await track(startFakeAnthropicProvider());
    await hostFor(provider, anthropic).agent("read these", {
      builtins: "none",
      attachments: [
        { mimeType: "image/png", data: PNG },
        { mimeType: "image/webp", url: "https://example.test/a.webp" },
        {
          mimeType: "application/pdf",
          url: `data:application/pdf;base64,${PDF}`,
          filename: "spec.pdf",
        },
        { mimeType: "text/markdown", data: NOTES, filename: "notes.md" },
      ],
    });
    const first = (bodyOf(provider, 0).messages as { content: unknown[] }[])[0]!;
    expect(first.content.slice(1)).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
      { type: "image", source: { type: "url", url: "https://example.test/a.webp" } },
      {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: PDF },
        title: "spec.pdf",
      },
      {
        type: "document",
        source: { type: "text", media_type: "text/plain", data: "line one\nline two" },
        title: "notes.md",
      },
    ]);
  });

  it("refuses a file kind the Messages API cannot carry", async () => {
    const provider = await track(startFakeAnthropicProvider());
    const err = await failure(
      hostFor(provider, anthropic).agent("x", {
        builtins: "none",
        attachments: [{ mimeType: "application/zip", data: PNG }],
      }),
    );
    expect(err).toMatchObject({ code: "VALIDATION" });
    expect(err.message).toContain("attachments[0]");
    expect(err.message).toContain("application/zip");
    expect(provider.requests).toHaveLength(0);
  });
});

describe("Gemini attachments", () => {
  it("sends inlineData for content and fileData for a url", async () => {
    const provider = await track(startFakeGeminiProvider());
    await hostFor(provider, { protocol: "gemini", model: "gemini-2.5-flash" }).agent("look", {
      builtins: "none",
      attachments: [
        { mimeType: "image/png", data: PNG },
        { mimeType: "application/pdf", url: "https://example.test/a.pdf" },
      ],
    });
    const first = (bodyOf(provider, 0).contents as { parts: unknown[] }[])[0]!;
    expect(first.parts.slice(1)).toEqual([
      { inlineData: { mimeType: "image/png", data: PNG } },
      { fileData: { mimeType: "application/pdf", fileUri: "https://example.test/a.pdf" } },
    ]);
  });
});

describe("reasoning and attachments shape errors", () => {
  it("fail VALIDATION naming the field and the fix, before any request", async () => {
    const provider = await track(startFakeOpenAiProvider());
    const host = hostFor(provider);
    for (const [options, field] of [
      [{ reasoning: "extreme" }, "reasoning"],
      [{ reasoning: { effort: "low", budget: 1 } }, "reasoning"],
      [{ reasoning: { maxTokens: 0 } }, "reasoning"],
      [{ attachments: { mimeType: "image/png" } }, '"attachments"'],
      [{ attachments: [{ mimeType: "image/png" }] }, "attachments[0]"],
      [
        { attachments: [{ mimeType: "image/png", data: PNG, url: "https://x.test" }] },
        "attachments[0]",
      ],
      [{ attachments: [{ mimeType: "png", data: PNG }] }, "attachments[0].mimeType"],
      [{ attachments: [{ mimeType: "image/png", data: "not base64!" }] }, "attachments[0].data"],
      [{ attachments: [{ mimeType: "image/png", url: "ftp://x.test/a" }] }, "attachments[0].url"],
      [{ attachments: [{ mimeType: "image/png", data: PNG, name: "a" }] }, "attachments[0].name"],
      [
        { attachments: [{ mimeType: "image/png", data: PNG, filename: 1 }] },
        "attachments[0].filename",
      ],
    ] as const) {
      const err = await failure(host.agent("x", { builtins: "none", ...(options as object) }));
      expect(err, JSON.stringify(options)).toMatchObject({ code: "VALIDATION" });
      expect(err.message, JSON.stringify(options)).toContain(field);
      expect(err.hint, JSON.stringify(options)).toBeTruthy();
    }
    const session = await failure(
      host.agent("x", { builtins: "none", session: { id: "s" } } as never),
    );
    expect(session).toMatchObject({ code: "UNSUPPORTED" });
    expect(session.message).toContain("session");
    expect(provider.requests).toHaveLength(0);
  });
});

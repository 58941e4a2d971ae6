/**
 * The engine-side agent hooks: pricing with `inference.rates`, model resolution over the env
 * lookup, and the `mcp_token` broker with McpError codes translated. What breaks if these fail:
 * budgets priced wrong, or OAuth tokens failing with codes the program cannot act on.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createModelResolver,
  createPriceUsage,
  RATES_VERSION,
  searchBackend,
} from "@promenade/agent";
import { FileTokenStore, isMcpError, TokenBroker } from "@promenade/mcp/oauth";
import { createEngineAgentHooks, createRunRedactor } from "./agent-plug.ts";
import type { EngineAgentContext } from "./agent-plug.ts";

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function hooks(
  overrides: Partial<EngineAgentContext> = {},
): ReturnType<typeof createEngineAgentHooks> {
  dir = mkdtempSync(join(tmpdir(), "agent-plug-"));
  const env: Record<string, string> = { LOCAL_KEY: "local-key-value" };
  return createEngineAgentHooks({
    inference: {},
    getEnv: (name) => env[name],
    tokenStorePath: join(dir, "mcp_tokens.json"),
    now: () => Date.UTC(2026, 0, 1),
    webSearchUrl: null,
    agent: { createModelResolver, createPriceUsage, searchBackend },
    oauth: { TokenBroker, FileTokenStore, isMcpError },
    ...overrides,
  });
}

const context = { runId: "01RUN" };

describe("priceUsage", () => {
  it("prices the documented table and never prices an unknown model at zero, marking it estimated", () => {
    const { priceUsage } = hooks();
    expect(
      priceUsage("anthropic/claude-sonnet-4-5", {
        inputTokens: 1_000_000,
        outputTokens: 1_000_000,
      }),
    ).toEqual({
      usdMicros: 18_000_000,
      rate: { source: "built-in", version: RATES_VERSION },
      estimated: false,
    });
    const unknown = priceUsage("my-local-model", { inputTokens: 1000 });
    expect(unknown.usdMicros).toBeGreaterThan(0);
    expect(unknown).toMatchObject({ rate: { source: "default" }, estimated: true });
    expect(priceUsage("anything", {}).usdMicros).toBe(0);
  });

  it("tests inference.rates overrides first, then inference.rate_table", () => {
    const { priceUsage } = hooks({
      inference: {
        rates: [{ match: "llama", in_usd_per_mtok: 0, out_usd_per_mtok: 0 }],
        rate_table: {
          version: "ops-7",
          models: [
            { match: "llama|qwen", in_usd_per_mtok: 1, out_usd_per_mtok: 1 },
            { match: "claude-sonnet", in_usd_per_mtok: 2, out_usd_per_mtok: 2 },
          ],
        },
      },
    });
    expect(priceUsage("llama-3", { inputTokens: 1_000_000 })).toEqual({
      usdMicros: 0,
      rate: { source: "override", version: "inference.rates" },
      estimated: false,
    });
    expect(priceUsage("qwen-2", { inputTokens: 1_000_000 })).toMatchObject({
      usdMicros: 1_000_000,
      rate: { source: "override", version: "ops-7" },
    });
    expect(priceUsage("claude-sonnet-4", { outputTokens: 1_000_000 }).usdMicros).toBe(2_000_000);
  });

  it("rejects malformed inference config at construction with VALIDATION", () => {
    expect(() =>
      hooks({ inference: { rates: [{ match: "(", in_usd_per_mtok: 1, out_usd_per_mtok: 1 }] } }),
    ).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    expect(() => hooks({ inference: { bogus: true } as never })).toThrow(
      expect.objectContaining({ code: "VALIDATION" }),
    );
  });
});

describe("resolve_model", () => {
  it("resolves a configured provider with its key from the env lookup", async () => {
    const { hostMethods } = hooks({
      inference: {
        default_provider: "local",
        default_model: "m1",
        providers: { local: { base_url: "http://127.0.0.1:9/v1", api_key_env: "LOCAL_KEY" } },
      },
    });
    await expect(hostMethods.resolve_model({}, context)).resolves.toMatchObject({
      provider: "local",
      model: "m1",
      apiKey: "local-key-value",
    });
  });

  it("fails MODEL_UNRESOLVED when nothing is configured", async () => {
    await expect(hooks().hostMethods.resolve_model({}, context)).rejects.toMatchObject({
      code: "MODEL_UNRESOLVED",
    });
  });
});

describe("mcp_token", () => {
  it("answers null with an authorizeMcpServer hint when no grant exists", async () => {
    const answer = (await hooks().hostMethods.mcp_token(
      { serverUrl: "https://mcp.example.com/mcp" },
      context,
    )) as { accessToken: string | null; hint?: string };
    expect(answer.accessToken).toBeNull();
    expect(answer.hint).toContain("authorizeMcpServer");
  });

  it("hands out a stored, unexpired token", async () => {
    const { hostMethods } = hooks();
    writeFileSync(
      join(dir!, "mcp_tokens.json"),
      JSON.stringify({ "https://mcp.example.com/mcp": { clientId: "c", accessToken: "tok-abc" } }),
    );
    await expect(
      hostMethods.mcp_token({ serverUrl: "https://MCP.example.com/mcp/" }, context),
    ).resolves.toMatchObject({ accessToken: "tok-abc" });
  });

  it("translates bad arguments and a corrupt store into engine codes", async () => {
    const { hostMethods } = hooks();
    await expect(hostMethods.mcp_token({ serverUrl: "" }, context)).rejects.toMatchObject({
      code: "VALIDATION",
    });
    await expect(hostMethods.mcp_token({ serverUrl: "not a url" }, context)).rejects.toMatchObject({
      code: "VALIDATION",
    });
    writeFileSync(join(dir!, "mcp_tokens.json"), "{ nope");
    await expect(
      hostMethods.mcp_token({ serverUrl: "https://mcp.example.com/mcp" }, context),
    ).rejects.toMatchObject({ code: "INTERNAL" });
  });
});

describe("createRunRedactor", () => {
  it("redacts registered secrets and ignores values shorter than 4 characters", () => {
    const redactor = createRunRedactor();
    redactor.add("GH_TOKEN", "tok-123");
    redactor.add("SHORT", "ab");
    expect(redactor.redact("token tok-123 ab")).toBe("token [redacted:GH_TOKEN] ab");
  });

  it("is one redactor per run process, with the deep and streamed redaction the loop uses", () => {
    const redactor = createRunRedactor();
    expect(createRunRedactor()).toBe(redactor);
    redactor.add("API_KEY", "sk-secret-value");
    expect(redactor.redactDeep({ a: ["sk-secret-value"] })).toEqual({ a: ["[redacted:API_KEY]"] });
    redactor.add("LATER", "later-secret");
    expect(redactor.redact("sk-secret-value later-secret")).toBe(
      "[redacted:API_KEY] [redacted:LATER]",
    );
    const stream = redactor.stream();
    const streamed = stream.push("x sk-secret") + stream.push("-value y") + stream.flush();
    expect(streamed).toBe("x [redacted:API_KEY] y");
  });
});

/**
 * Model resolution: provider and model stay orthogonal, model strings pass
 * verbatim, and every failure names the fix (the env var, the config key). A regression here
 * sends a call to the wrong provider or fails with an error nobody can act on.
 */
import { describe, expect, it } from "vitest";
import {
  createEnvLookup,
  createModelResolver,
  parseProvidersJson,
  resolveModel,
  validateInferenceConfig,
  type InferenceConfig,
} from "./resolve-model.ts";

const env = (values: Record<string, string>) => createEnvLookup(values);
const failure = (fn: () => unknown): { code: string; message: string; hint?: string } => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; hint?: string };
  }
  throw new Error("expected a throw");
};

describe("resolveModel", () => {
  it("resolves a named built-in with the model verbatim", () => {
    const resolved = resolveModel(
      {},
      { provider: "anthropic", model: "anthropic/claude-sonnet-4-5" },
      env({ ANTHROPIC_API_KEY: "sk-ant-1234" }),
    );
    expect(resolved).toEqual({
      provider: "anthropic",
      model: "anthropic/claude-sonnet-4-5",
      protocol: "anthropic",
      baseUrl: "https://api.anthropic.com",
      apiKey: "sk-ant-1234",
      headers: {},
      secretHeaderNames: [],
    });
  });

  it("passes odd model strings through unchanged", () => {
    const inference: InferenceConfig = {
      providers: { local: { base_url: "http://localhost:11434/v1" } },
    };
    for (const model of ["openai/ft:gpt-4o/org/abc", "anthropic/sonnet-4.5", "boardwalk/x"]) {
      expect(resolveModel(inference, { provider: "local", model }, env({})).model).toBe(model);
    }
  });

  it("resolves google to the OpenAI-compatible surface, GEMINI_API_KEY first", () => {
    const both = resolveModel(
      {},
      { provider: "google", model: "gemini-2.0-flash" },
      env({ GEMINI_API_KEY: "gem-key1", GOOGLE_API_KEY: "goo-key1" }),
    );
    expect(both).toMatchObject({
      baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
      protocol: "openai",
      apiKey: "gem-key1",
    });
    expect(
      resolveModel({}, { provider: "google", model: "m" }, env({ GOOGLE_API_KEY: "goo-key1" }))
        .apiKey,
    ).toBe("goo-key1");
  });

  it("lets a configured entry shadow a built-in; unset api_key_env fails naming the var", () => {
    const inference: InferenceConfig = {
      providers: { openai: { base_url: "http://127.0.0.1:9/v1", api_key_env: "MY_OPENAI_KEY" } },
    };
    const err = failure(() =>
      resolveModel(
        inference,
        { provider: "openai", model: "gpt-4o" },
        env({ OPENAI_API_KEY: "sk-real" }),
      ),
    );
    expect(err.code).toBe("PROVIDER_ERROR");
    expect(err.message).toContain("MY_OPENAI_KEY");
    const keyless = resolveModel(
      { providers: { openai: { base_url: "http://127.0.0.1:9/v1" } } },
      { provider: "openai", model: "gpt-4o" },
      env({ OPENAI_API_KEY: "sk-real" }),
    );
    expect(keyless).toMatchObject({ apiKey: null, baseUrl: "http://127.0.0.1:9/v1" });
  });

  it("resolves { from_env } headers as secrets and names header + var when unset", () => {
    const inference: InferenceConfig = {
      providers: {
        azure: {
          base_url: "https://x.example/v1",
          headers: { "api-key": { from_env: "AZURE_KEY" }, "x-team": "blue" },
        },
      },
    };
    const resolved = resolveModel(
      inference,
      { provider: "azure", model: "gpt-4o" },
      env({ AZURE_KEY: "az-secret-1" }),
    );
    expect(resolved.headers).toEqual({ "api-key": "az-secret-1", "x-team": "blue" });
    expect(resolved.secretHeaderNames).toEqual(["api-key"]);
    const err = failure(() =>
      resolveModel(inference, { provider: "azure", model: "gpt-4o" }, env({})),
    );
    expect(err.code).toBe("PROVIDER_ERROR");
    expect(err.message).toContain("AZURE_KEY");
    expect(err.message).toContain("api-key");
  });

  it("rejects a configured content-type header with VALIDATION", () => {
    const inference = {
      providers: { p: { base_url: "http://h/v1", headers: { "Content-Type": "text/plain" } } },
    };
    expect(failure(() => validateInferenceConfig(inference)).code).toBe("VALIDATION");
    const err = failure(() => resolveModel(inference, { provider: "p", model: "m" }, env({})));
    expect(err.code).toBe("VALIDATION");
    expect(err.message).toContain("content-type");
  });

  it("fails MODEL_UNRESOLVED for an explicit provider without a model, and for an unknown provider", () => {
    const noModel = failure(() =>
      resolveModel({}, { provider: "anthropic" }, env({ ANTHROPIC_API_KEY: "k-1234" })),
    );
    expect(noModel.code).toBe("MODEL_UNRESOLVED");
    expect(noModel.message).toContain("needs a model");
    const unknown = failure(() => resolveModel({}, { provider: "nope", model: "m" }, env({})));
    expect(unknown.code).toBe("MODEL_UNRESOLVED");
    expect(unknown.message).toContain("nope");
    expect(unknown.hint).toContain("inference.providers.nope");
  });

  it("names an unknown provider's fixes in Promenade's own config terms", () => {
    const unknown = failure(() => resolveModel({}, { provider: "nope", model: "m" }, env({})));
    expect(unknown.message).toBe(
      'agent() names unknown provider "nope": it is not a built-in (anthropic, openai, google) and not configured in inference.providers (PROMENADE_PROVIDERS for the server).',
    );
    expect(unknown.hint).toBe(
      'Configure it: inference.providers.nope = { base_url, api_key_env? } in EngineOptions, or for the server PROMENADE_PROVIDERS=\'{"nope":{"base_url":"http://localhost:11434/v1"}}\' (any OpenAI-compatible endpoint, e.g. a local Ollama or vLLM). Or name a built-in: "anthropic" with ANTHROPIC_API_KEY, "openai" with OPENAI_API_KEY, "google" with GEMINI_API_KEY or GOOGLE_API_KEY.',
    );
  });

  it("fails PROVIDER_ERROR naming the built-in's key vars when unset", () => {
    const err = failure(() => resolveModel({}, { provider: "google", model: "m" }, env({})));
    expect(err.code).toBe("PROVIDER_ERROR");
    expect(err.message).toContain("GEMINI_API_KEY");
    expect(err.message).toContain("GOOGLE_API_KEY");
    expect(err.hint).toContain("GEMINI_API_KEY");
  });

  it("names every fix when nothing is configured, even with ANTHROPIC_API_KEY set", () => {
    for (const values of [{}, { ANTHROPIC_API_KEY: "sk-ant-1" }]) {
      const err = failure(() => resolveModel({}, {}, env(values)));
      expect(err.code).toBe("MODEL_UNRESOLVED");
      const text = `${err.message} ${err.hint}`;
      for (const needle of [
        "PROMENADE_DEFAULT_PROVIDER",
        'provider: "anthropic"',
        "ANTHROPIC_API_KEY",
        "PROMENADE_PROVIDERS",
        "Ollama",
        "PROMENADE_DEFAULT_MODEL",
      ]) {
        expect(text).toContain(needle);
      }
      expect(err.message).toBe(
        "agent() has no inference provider: the call names none and no default provider is set (PROMENADE_DEFAULT_PROVIDER and PROMENADE_DEFAULT_MODEL, or inference.default_provider and inference.default_model in EngineOptions).",
      );
      // The environment variables come first, and no managed gateway of another product is offered.
      expect(text).not.toMatch(/boardwalk|managed|lane/i);
      expect(err.hint).toBe(
        'Fix one of: set PROMENADE_DEFAULT_PROVIDER to a built-in or configured provider and PROMENADE_DEFAULT_MODEL to one of its models; or add any OpenAI-compatible endpoint, including a local Ollama (http://localhost:11434/v1) or vLLM server, to PROMENADE_PROVIDERS (inference.providers) and make it the default; or name a provider in the call, e.g. { provider: "anthropic", model: "<model id>" } with ANTHROPIC_API_KEY set (also "openai" with OPENAI_API_KEY, "google" with GEMINI_API_KEY or GOOGLE_API_KEY).',
      );
    }
  });

  it("names the missing half when boardwalk is named explicitly", () => {
    const noUrl = failure(() =>
      resolveModel({}, { provider: "boardwalk" }, env({ PROMENADE_MANAGED_API_KEY: "mk-1234" })),
    );
    expect(noUrl.code).toBe("MODEL_UNRESOLVED");
    expect(noUrl.message).toContain("PROMENADE_MANAGED_URL");
    const noKey = failure(() =>
      resolveModel(
        { managed: { base_url: "https://gw.example/v1" } },
        { provider: "boardwalk" },
        env({}),
      ),
    );
    expect(noKey.message).toContain("PROMENADE_MANAGED_API_KEY");
    expect(noKey.message).not.toContain("no gateway URL");
    expect(noKey.hint).toContain("Ollama");
    expect(noUrl.message).toBe(
      'agent() names provider "boardwalk", which routes to an external Boardwalk-compatible gateway (Promenade hosts none), but none is configured: no gateway URL is set (PROMENADE_MANAGED_URL, or inference.managed.base_url in EngineOptions). Set PROMENADE_MANAGED_URL + PROMENADE_MANAGED_API_KEY, or name a built-in or configured provider instead.',
    );
    const neither = failure(() => resolveModel({}, { provider: "boardwalk" }, env({})));
    expect(neither.message).toContain("no gateway URL is set");
    expect(neither.message).toContain(
      "the gateway key env var PROMENADE_MANAGED_API_KEY (legacy BOARDWALK_API_KEY) is not set",
    );
    const customKey = failure(() =>
      resolveModel(
        { managed: { base_url: "https://gw.example/v1", api_key_env: "GW_KEY" } },
        { provider: "boardwalk" },
        env({}),
      ),
    );
    expect(customKey.message).toContain("GW_KEY");
  });

  it("routes provider-less calls to default_provider with default_model", () => {
    const inference: InferenceConfig = {
      default_provider: "local",
      default_model: "llama3.3",
      providers: { local: { base_url: "http://localhost:11434/v1" } },
    };
    expect(resolveModel(inference, {}, env({}))).toMatchObject({
      provider: "local",
      model: "llama3.3",
      apiKey: null,
    });
  });

  it("uses the managed lane when configured: model auto, or verbatim", () => {
    const inference: InferenceConfig = { managed: { base_url: "https://gw.example/v1" } };
    const lookup = env({ PROMENADE_MANAGED_API_KEY: "mk-secret-1" });
    expect(resolveModel(inference, {}, lookup)).toEqual({
      provider: "boardwalk",
      protocol: "openai",
      baseUrl: "https://gw.example/v1",
      apiKey: "mk-secret-1",
      model: "auto",
      headers: {},
      secretHeaderNames: [],
    });
    expect(resolveModel(inference, { model: "boardwalk/x" }, lookup).model).toBe("boardwalk/x");
    expect(
      resolveModel(
        { boardwalk_base_url: "https://gw.example/v1" },
        {},
        env({ BOARDWALK_API_KEY: "bw-key-1" }),
      ).apiKey,
    ).toBe("bw-key-1");
  });

  it("rejects present-but-empty model/provider strings with VALIDATION", () => {
    expect(failure(() => resolveModel({}, { model: "" }, env({}))).code).toBe("VALIDATION");
    expect(failure(() => resolveModel({}, { provider: "" }, env({}))).code).toBe("VALIDATION");
  });

  it("carries request_timeout_ms", () => {
    const resolved = resolveModel(
      { request_timeout_ms: 5000, providers: { l: { base_url: "http://h/v1" } } },
      { provider: "l", model: "m" },
      env({}),
    );
    expect(resolved.requestTimeoutMs).toBe(5000);
  });
});

describe("validateInferenceConfig", () => {
  it("rejects providers.boardwalk, an unknown default_provider and a typo key", () => {
    expect(
      failure(() => validateInferenceConfig({ providers: { boardwalk: { base_url: "http://h" } } }))
        .code,
    ).toBe("VALIDATION");
    const ghost = failure(() => validateInferenceConfig({ default_provider: "ghost" }));
    expect(ghost.code).toBe("VALIDATION");
    expect(ghost.message).toContain("PROMENADE_DEFAULT_PROVIDER");
    expect(ghost.hint).toContain("inference.providers.ghost");
    const typo = failure(() =>
      validateInferenceConfig({ providers: { x: { base_url: "http://h", apikey_env: "K" } } }),
    );
    expect(typo.code).toBe("VALIDATION");
    expect(typo.message).toContain("apikey_env");
  });

  it("rejects both managed.base_url and boardwalk_base_url, and a non-URL base_url", () => {
    expect(
      failure(() =>
        validateInferenceConfig({
          managed: { base_url: "https://a" },
          boardwalk_base_url: "https://b",
        }),
      ).code,
    ).toBe("VALIDATION");
    expect(
      failure(() => validateInferenceConfig({ providers: { x: { base_url: "not a url" } } })).code,
    ).toBe("VALIDATION");
  });

  it("accepts a full config", () => {
    const config = {
      default_provider: "local",
      default_model: "m",
      providers: { local: { base_url: "http://localhost:11434/v1", protocol: "openai" as const } },
      managed: { base_url: "https://gw", api_key_env: "GW_KEY" },
      rates: [{ match: "llama", in_usd_per_mtok: 0, out_usd_per_mtok: 0 }],
      request_timeout_ms: 1000,
    };
    expect(validateInferenceConfig(config)).toBe(config);
  });

  it("parses PROMENADE_PROVIDERS JSON with an example hint on failure", () => {
    expect(parseProvidersJson('{"local":{"base_url":"http://localhost:11434/v1"}}')).toEqual({
      local: { base_url: "http://localhost:11434/v1" },
    });
    const err = failure(() => parseProvidersJson("{nope"));
    expect(err.code).toBe("VALIDATION");
    expect(err.hint).toContain("base_url");
  });
});

describe("createModelResolver / createEnvLookup", () => {
  it("consults the env map before processEnv and treats empty as unset", async () => {
    const lookup = createEnvLookup(new Map([["ANTHROPIC_API_KEY", ""]]), {
      ANTHROPIC_API_KEY: "from-process",
    });
    expect(lookup("ANTHROPIC_API_KEY")).toBe("from-process");
    const resolve = createModelResolver(
      {},
      createEnvLookup(
        { ANTHROPIC_API_KEY: "from-env-file" },
        { ANTHROPIC_API_KEY: "from-process" },
      ),
    );
    await expect(resolve({ provider: "anthropic", model: "claude-haiku" })).resolves.toMatchObject({
      apiKey: "from-env-file",
    });
    await expect(resolve({ provider: "nope", model: "m" })).rejects.toMatchObject({
      code: "MODEL_UNRESOLVED",
    });
  });
});

/**
 * Model resolution: turns a call's `{ model?, provider? }` plus the operator's
 * inference config and an env lookup into a `ResolvedModel`. Pure: it never reads `process.env`
 * (the engine passes `getEnv` = its env map, then its `processEnv`) and never touches the network.
 * Invariants: `model` is verbatim (never parsed or rewritten); a vendor key is used only when that
 * vendor is named (per call or as `default_provider`); Promenade never defaults to a hosted URL.
 */
import { EngineError } from "@promenade/workflow/errors";
import { compileRates, type RateOverride, type RateTable } from "./rates.ts";
import type { ProviderProtocol, ResolvedModel } from "./ports.ts";

/** A header value: static, or read from the env at resolve time (then treated as a secret). */
export type ProviderHeaderValue = string | { from_env: string };

/** A named endpoint (`inference.providers.<name>`), Boardwalk-compatible keys. */
export interface ProviderConfig {
  /** Endpoint base URL, e.g. `http://localhost:11434/v1`. */
  base_url: string;
  /** Env var holding the key; omit for keyless endpoints. */
  api_key_env?: string;
  /** Default `"openai"`. `"gemini"` selects the native Gemini API. */
  protocol?: ProviderProtocol;
  /** Custom headers; they win over computed auth. `content-type` is engine-owned. */
  headers?: Record<string, ProviderHeaderValue>;
}

/** `EngineOptions.inference` (Boardwalk-compatible snake_case keys). */
export interface InferenceConfig {
  /** Provider for calls that name none (a built-in, a `providers` key, or `"boardwalk"`). */
  default_provider?: string;
  /** Model for calls that name none; verbatim. */
  default_model?: string;
  /** Named endpoints; an entry shadows a built-in of the same name. */
  providers?: Record<string, ProviderConfig>;
  /** Managed gateway (`provider: "boardwalk"`): set up iff a base URL and a key are found. */
  managed?: { base_url: string; api_key_env?: string };
  /** Boardwalk-compatible alias of `managed.base_url`. */
  boardwalk_base_url?: string;
  /** Operator rate overrides, tested first (before `rate_table` and the shipped table). */
  rates?: RateOverride[];
  /**
   * **Promenade:** an operator rate table (`{ version, models }`, the format of the package's
   * `rates/rates.json`), tested after `rates` and before the shipped table. The server binary
   * reads it from `PROMENADE_RATES_FILE`.
   */
  rate_table?: RateTable;
  /** Per-attempt provider request timeout in ms (a timeout is retried like a network failure). */
  request_timeout_ms?: number;
}

/** Looks a name up in the engine's env (empty string counts as unset). */
export type EnvLookup = (name: string) => string | undefined;

/** A call's resolution request (the `resolve_model` host-call args). */
export interface ResolveRequest {
  model?: string | undefined;
  provider?: string | undefined;
}

interface BuiltIn {
  protocol: ProviderProtocol;
  baseUrl: string;
  keyEnv: readonly string[];
}

/** The built-in providers, used only when named. */
export const BUILT_IN_PROVIDERS: Readonly<Record<string, BuiltIn>> = Object.freeze({
  anthropic: {
    protocol: "anthropic",
    baseUrl: "https://api.anthropic.com",
    keyEnv: ["ANTHROPIC_API_KEY"],
  },
  openai: { protocol: "openai", baseUrl: "https://api.openai.com/v1", keyEnv: ["OPENAI_API_KEY"] },
  google: {
    protocol: "openai",
    baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
    keyEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  },
});

const MANAGED = "boardwalk";
const DEFAULT_MANAGED_KEY_ENV = "PROMENADE_MANAGED_API_KEY";

const FOUR_FIXES =
  'Fix one of: set PROMENADE_DEFAULT_PROVIDER to a built-in or configured provider and PROMENADE_DEFAULT_MODEL to one of its models; or add any OpenAI-compatible endpoint, including a local Ollama (http://localhost:11434/v1) or vLLM server, to PROMENADE_PROVIDERS (inference.providers) and make it the default; or name a provider in the call, e.g. { provider: "anthropic", model: "<model id>" } with ANTHROPIC_API_KEY set (also "openai" with OPENAI_API_KEY, "google" with GEMINI_API_KEY or GOOGLE_API_KEY).';

const NO_PROVIDER_MESSAGE =
  "agent() has no inference provider: the call names none and no default provider is set (PROMENADE_DEFAULT_PROVIDER and PROMENADE_DEFAULT_MODEL, or inference.default_provider and inference.default_model in EngineOptions).";

const PROVIDERS_EXAMPLE =
  'Example: { "local": { "base_url": "http://localhost:11434/v1" }, "azure": { "base_url": "https://x.openai.azure.com/openai/v1", "headers": { "api-key": { "from_env": "AZURE_KEY" } } } }';

/**
 * An {@link EnvLookup} over the engine's env map first, then its process env; empty counts as
 * unset.
 */
export function createEnvLookup(
  env: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  processEnv: Readonly<Record<string, string | undefined>> = {},
): EnvLookup {
  const first = (name: string): string | undefined => {
    if (env instanceof Map) return (env as ReadonlyMap<string, string>).get(name);
    const record = env as Readonly<Record<string, string>>;
    return Object.hasOwn(record, name) ? record[name] : undefined;
  };
  return (name) => {
    const own = first(name);
    if (own !== undefined && own !== "") return own;
    const fallback = Object.hasOwn(processEnv, name) ? processEnv[name] : undefined;
    return fallback === undefined || fallback === "" ? undefined : fallback;
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rejectUnknownKeys(
  where: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
  hint?: string,
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new EngineError(
        "VALIDATION",
        `${where} has an unknown key "${key}" (allowed: ${allowed.join(", ")}).`,
        hint,
      );
    }
  }
}

function nonEmptyString(where: string, value: unknown, hint?: string): string {
  if (typeof value !== "string" || value === "") {
    throw new EngineError("VALIDATION", `${where} must be a non-empty string.`, hint);
  }
  return value;
}

function validUrl(where: string, value: unknown, hint?: string): string {
  const text = nonEmptyString(where, value, hint);
  try {
    new URL(text);
  } catch {
    throw new EngineError("VALIDATION", `${where} must be an absolute URL.`, hint);
  }
  return text;
}

function checkHeaders(where: string, headers: unknown): void {
  if (!isRecord(headers)) {
    throw new EngineError("VALIDATION", `${where} must be an object.`, PROVIDERS_EXAMPLE);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name === "") {
      throw new EngineError("VALIDATION", `${where} has an empty header name.`, PROVIDERS_EXAMPLE);
    }
    if (name.toLowerCase() === "content-type") {
      throw new EngineError(
        "VALIDATION",
        `${where}.${name}: the content-type header is set by the engine and cannot be configured.`,
        "Remove the content-type entry from the provider's headers.",
      );
    }
    if (typeof value === "string") {
      if (value === "") {
        throw new EngineError("VALIDATION", `${where}.${name} must be a non-empty string.`);
      }
    } else if (isRecord(value)) {
      rejectUnknownKeys(`${where}.${name}`, value, ["from_env"], PROVIDERS_EXAMPLE);
      nonEmptyString(`${where}.${name}.from_env`, value.from_env, PROVIDERS_EXAMPLE);
    } else {
      throw new EngineError(
        "VALIDATION",
        `${where}.${name} must be a string or { from_env: "VAR" }.`,
        PROVIDERS_EXAMPLE,
      );
    }
  }
}

/**
 * Validates a providers map (strict objects). Used by {@link validateInferenceConfig} and by
 * {@link parseProvidersJson}; `label` names the map in messages.
 * @throws EngineError `VALIDATION` naming the entry and key (never a value); the hint shows an
 * example.
 */
export function validateProviders(
  value: unknown,
  label = "inference.providers",
): Record<string, ProviderConfig> {
  if (!isRecord(value)) {
    throw new EngineError(
      "VALIDATION",
      `${label} must be an object of named provider configs.`,
      PROVIDERS_EXAMPLE,
    );
  }
  for (const [name, entry] of Object.entries(value)) {
    const where = `${label}.${name}`;
    if (name === MANAGED) {
      throw new EngineError(
        "VALIDATION",
        `${where}: the provider name "boardwalk" is reserved for the managed lane.`,
        "Configure the gateway with inference.managed = { base_url, api_key_env? } (PROMENADE_MANAGED_URL) instead.",
      );
    }
    if (!isRecord(entry)) {
      throw new EngineError("VALIDATION", `${where} must be an object.`, PROVIDERS_EXAMPLE);
    }
    rejectUnknownKeys(
      where,
      entry,
      ["base_url", "api_key_env", "protocol", "headers"],
      PROVIDERS_EXAMPLE,
    );
    validUrl(`${where}.base_url`, entry.base_url, PROVIDERS_EXAMPLE);
    if (entry.api_key_env !== undefined) {
      nonEmptyString(`${where}.api_key_env`, entry.api_key_env, PROVIDERS_EXAMPLE);
    }
    if (
      entry.protocol !== undefined &&
      entry.protocol !== "openai" &&
      entry.protocol !== "anthropic" &&
      entry.protocol !== "gemini"
    ) {
      throw new EngineError(
        "VALIDATION",
        `${where}.protocol must be "openai", "anthropic" or "gemini".`,
        PROVIDERS_EXAMPLE,
      );
    }
    if (entry.headers !== undefined) checkHeaders(`${where}.headers`, entry.headers);
  }
  return value as Record<string, ProviderConfig>;
}

/**
 * Parses and validates `PROMENADE_PROVIDERS`-style JSON text; messages name `label` and JSON
 * paths, never the text (it may hold header values).
 * @throws EngineError `VALIDATION` for malformed JSON or entries, with an example in the hint.
 */
export function parseProvidersJson(
  text: string,
  label = "PROMENADE_PROVIDERS",
): Record<string, ProviderConfig> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EngineError("VALIDATION", `${label} is not valid JSON.`, PROVIDERS_EXAMPLE);
  }
  return validateProviders(value, label);
}

/**
 * Load-time validation of the inference config: strict objects, URLs,
 * `default_provider` must name the managed lane, a built-in or a configured provider, a provider
 * named `boardwalk` is reserved, `managed.base_url` and `boardwalk_base_url` are exclusive.
 * @throws EngineError `VALIDATION` naming the key to fix.
 */
export function validateInferenceConfig(value: unknown): InferenceConfig {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new EngineError("VALIDATION", "inference must be an object.");
  rejectUnknownKeys("inference", value, [
    "default_provider",
    "default_model",
    "providers",
    "managed",
    "boardwalk_base_url",
    "rates",
    "rate_table",
    "request_timeout_ms",
  ]);
  const providers = value.providers === undefined ? {} : validateProviders(value.providers);
  if (value.default_model !== undefined) {
    nonEmptyString("inference.default_model", value.default_model);
  }
  if (value.default_provider !== undefined) {
    const name = nonEmptyString("inference.default_provider", value.default_provider);
    if (
      name !== MANAGED &&
      !Object.hasOwn(BUILT_IN_PROVIDERS, name) &&
      !Object.hasOwn(providers, name)
    ) {
      throw new EngineError(
        "VALIDATION",
        `inference.default_provider (PROMENADE_DEFAULT_PROVIDER) "${name}" is not a built-in provider (${Object.keys(BUILT_IN_PROVIDERS).join(", ")}), not a key of inference.providers (PROMENADE_PROVIDERS), and not "boardwalk" (an external managed gateway).`,
        `Add inference.providers.${name} = { base_url, api_key_env? } (server: PROMENADE_PROVIDERS), or set the default to a built-in.`,
      );
    }
  }
  if (value.managed !== undefined) {
    if (!isRecord(value.managed)) {
      throw new EngineError("VALIDATION", "inference.managed must be { base_url, api_key_env? }.");
    }
    rejectUnknownKeys("inference.managed", value.managed, ["base_url", "api_key_env"]);
    validUrl("inference.managed.base_url", value.managed.base_url);
    if (value.managed.api_key_env !== undefined) {
      nonEmptyString("inference.managed.api_key_env", value.managed.api_key_env);
    }
  }
  if (value.boardwalk_base_url !== undefined) {
    validUrl("inference.boardwalk_base_url", value.boardwalk_base_url);
    if (value.managed !== undefined) {
      throw new EngineError(
        "VALIDATION",
        "inference.managed.base_url and inference.boardwalk_base_url are both set.",
        "Keep one: boardwalk_base_url is the Boardwalk-compatible alias of managed.base_url.",
      );
    }
  }
  if (value.rates !== undefined) {
    if (!Array.isArray(value.rates)) {
      throw new EngineError("VALIDATION", "inference.rates must be an array.");
    }
    compileRates(value.rates as RateOverride[]);
  }
  if (value.rate_table !== undefined) compileRates(undefined, value.rate_table as RateTable);
  if (value.request_timeout_ms !== undefined) {
    const ms = value.request_timeout_ms;
    if (typeof ms !== "number" || !Number.isInteger(ms) || ms <= 0) {
      throw new EngineError(
        "VALIDATION",
        "inference.request_timeout_ms must be a positive integer (milliseconds).",
      );
    }
  }
  return value;
}

function resolveHeaders(
  provider: string,
  headers: Record<string, ProviderHeaderValue> | undefined,
  getEnv: EnvLookup,
): { headers: Record<string, string>; secretHeaderNames: string[] } {
  const out: Record<string, string> = {};
  const secretHeaderNames: string[] = [];
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === "content-type") {
      throw new EngineError(
        "VALIDATION",
        `Provider "${provider}" configures a content-type header, which the engine owns.`,
        `Remove inference.providers.${provider}.headers.${name}.`,
      );
    }
    if (typeof value === "string") {
      out[name] = value;
      continue;
    }
    const found = getEnv(value.from_env);
    if (found === undefined) {
      throw new EngineError(
        "PROVIDER_ERROR",
        `Provider "${provider}" header "${name}" reads env var ${value.from_env}, which is not set.`,
        `Set ${value.from_env} in the engine environment.`,
      );
    }
    out[name] = found;
    secretHeaderNames.push(name);
  }
  return { headers: out, secretHeaderNames };
}

function checkCallString(field: "model" | "provider", value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new EngineError("VALIDATION", `agent() option "${field}" must be a string.`);
  }
  if (value === "") {
    throw new EngineError(
      "VALIDATION",
      `agent() option "${field}" is an empty string.`,
      `Omit "${field}" to use the engine default, or pass a non-empty value.`,
    );
  }
  return value;
}

function withTimeout(resolved: ResolvedModel, inference: InferenceConfig): ResolvedModel {
  if (inference.request_timeout_ms !== undefined) {
    resolved.requestTimeoutMs = inference.request_timeout_ms;
  }
  return resolved;
}

/**
 * Resolves a call to a `ResolvedModel` (errors are `MODEL_UNRESOLVED`, naming every fix).
 * @throws EngineError `MODEL_UNRESOLVED` (no usable provider, unknown provider, no model),
 *   `PROVIDER_ERROR` (a named key or header env var is unset), `VALIDATION` (empty `model` /
 *   `provider` strings, a configured `content-type` header).
 */
export function resolveModel(
  inference: InferenceConfig,
  request: ResolveRequest,
  getEnv: EnvLookup,
): ResolvedModel {
  const callModel = checkCallString("model", request.model);
  const callProvider = checkCallString("provider", request.provider);
  const named = callProvider ?? inference.default_provider;
  const provider = named ?? MANAGED;
  const model = callModel ?? inference.default_model;

  if (provider === MANAGED) {
    const baseUrl = inference.managed?.base_url ?? inference.boardwalk_base_url;
    const keyEnv = inference.managed?.api_key_env ?? DEFAULT_MANAGED_KEY_ENV;
    const apiKey = getEnv(keyEnv) ?? getEnv("BOARDWALK_API_KEY");
    if (baseUrl !== undefined && apiKey !== undefined) {
      return withTimeout(
        {
          provider: MANAGED,
          protocol: "openai",
          baseUrl,
          apiKey,
          model: model !== undefined && model !== "" ? model : "auto",
          headers: {},
          secretHeaderNames: [],
        },
        inference,
      );
    }
    if (named === undefined)
      throw new EngineError("MODEL_UNRESOLVED", NO_PROVIDER_MESSAGE, FOUR_FIXES);
    const missing = [
      ...(baseUrl === undefined
        ? [
            "no gateway URL is set (PROMENADE_MANAGED_URL, or inference.managed.base_url in EngineOptions)",
          ]
        : []),
      ...(apiKey === undefined
        ? [`the gateway key env var ${keyEnv} (legacy BOARDWALK_API_KEY) is not set`]
        : []),
    ].join(" and ");
    throw new EngineError(
      "MODEL_UNRESOLVED",
      `agent() names provider "boardwalk", which routes to an external Boardwalk-compatible gateway (Promenade hosts none), but none is configured: ${missing}. Set PROMENADE_MANAGED_URL + ${keyEnv}, or name a built-in or configured provider instead.`,
      FOUR_FIXES,
    );
  }

  if (model === undefined || model === "") {
    throw new EngineError(
      "MODEL_UNRESOLVED",
      `agent() provider "${provider}" needs a model: the call passes no model and inference.default_model is not set.`,
      `Pass { model: "<model id>" } to agent(), or set inference.default_model (PROMENADE_DEFAULT_MODEL).`,
    );
  }

  const configured = inference.providers?.[provider];
  if (configured !== undefined && Object.hasOwn(inference.providers ?? {}, provider)) {
    let apiKey: string | null = null;
    if (configured.api_key_env !== undefined) {
      const key = getEnv(configured.api_key_env);
      if (key === undefined) {
        throw new EngineError(
          "PROVIDER_ERROR",
          `Provider "${provider}" reads its key from env var ${configured.api_key_env}, which is not set.`,
          `Set ${configured.api_key_env} in the engine environment, or remove api_key_env for a keyless endpoint.`,
        );
      }
      apiKey = key;
    }
    const { headers, secretHeaderNames } = resolveHeaders(provider, configured.headers, getEnv);
    return withTimeout(
      {
        provider,
        model,
        protocol: configured.protocol ?? "openai",
        baseUrl: configured.base_url,
        apiKey,
        headers,
        secretHeaderNames,
      },
      inference,
    );
  }

  const builtIn = Object.hasOwn(BUILT_IN_PROVIDERS, provider)
    ? BUILT_IN_PROVIDERS[provider]
    : undefined;
  if (builtIn !== undefined) {
    let apiKey: string | undefined;
    for (const name of builtIn.keyEnv) {
      apiKey = getEnv(name);
      if (apiKey !== undefined) break;
    }
    if (apiKey === undefined) {
      throw new EngineError(
        "PROVIDER_ERROR",
        `Provider "${provider}" needs an API key in ${builtIn.keyEnv.join(" or ")}, which is not set.`,
        `Set ${builtIn.keyEnv[0]} in the engine environment.`,
      );
    }
    return withTimeout(
      {
        provider,
        model,
        protocol: builtIn.protocol,
        baseUrl: builtIn.baseUrl,
        apiKey,
        headers: {},
        secretHeaderNames: [],
      },
      inference,
    );
  }

  throw new EngineError(
    "MODEL_UNRESOLVED",
    `agent() names unknown provider "${provider}": it is not a built-in (${Object.keys(BUILT_IN_PROVIDERS).join(", ")}) and not configured in inference.providers (PROMENADE_PROVIDERS for the server).`,
    `Configure it: inference.providers.${provider} = { base_url, api_key_env? } in EngineOptions, or for the server PROMENADE_PROVIDERS='${JSON.stringify({ [provider]: { base_url: "http://localhost:11434/v1" } })}' (any OpenAI-compatible endpoint, e.g. a local Ollama or vLLM). Or name a built-in: "anthropic" with ANTHROPIC_API_KEY, "openai" with OPENAI_API_KEY, "google" with GEMINI_API_KEY or GOOGLE_API_KEY.`,
  );
}

/**
 * The engine's `resolve_model` host method: validates `inference` once, then resolves each
 * call's `{ model?, provider? }` args.
 * @throws EngineError `VALIDATION` at construction for a bad config (see
 *   {@link validateInferenceConfig}); per call, the errors of {@link resolveModel}.
 */
export function createModelResolver(
  inference: InferenceConfig | undefined,
  getEnv: EnvLookup,
): (args: Record<string, unknown>) => Promise<ResolvedModel> {
  const config = validateInferenceConfig(inference ?? {});
  return (args) =>
    Promise.resolve().then(() =>
      resolveModel(
        config,
        { model: args.model as string | undefined, provider: args.provider as string | undefined },
        getEnv,
      ),
    );
}

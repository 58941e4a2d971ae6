/**
 * Where `@promenade/agent` and `@promenade/mcp` plug into the engine (the engine is
 * the only package that combines them). Two halves in one small file:
 * - engine side: `createEngineAgentHooks` → the supervisor's `priceUsage` and host methods
 *   `resolve_model` / `mcp_token`, built from `EngineOptions.inference` and the env lookup;
 * - run-process side: `childAgent` (the `agent()` implementation) and `createRunRedactor` (the
 *   run's one redactor), handed to the supervisor's child runtime by `child.ts`.
 * Only type imports of the agent and MCP packages here: the engine passes their modules in, and
 * the run process loads the agent loop on the first `agent()` call, so a program that never
 * calls `agent()` never pays for it (start latency, memory).
 */
import type * as AgentModule from "@promenade/agent";
import type * as OAuthModule from "@promenade/mcp/oauth";
import type { ChildAgentHost, ChildRuntimeOptions } from "@promenade/supervisor/child";
import { EngineError } from "@promenade/workflow/errors";
import { Redactor } from "@promenade/workflow/redact";
import { toEngineError } from "./mcp-errors.ts";

/** Inference configuration (Boardwalk-compatible keys). */
export type InferenceConfig = AgentModule.InferenceConfig;

/** What the engine side needs to build the hooks. */
export interface EngineAgentContext {
  inference: InferenceConfig;
  /** `env` first, then `processEnv`; empty string counts as unset. */
  getEnv(name: string): string | undefined;
  /** `<dataDir>/mcp_tokens.json` (the MCP OAuth token store). */
  tokenStorePath: string;
  now(): number;
  /** The `web_search` backend URL, or `null` when none is configured. */
  webSearchUrl: string | null;
  /** The agent and MCP OAuth modules (engine process only). */
  agent: Pick<typeof AgentModule, "createModelResolver" | "createPriceUsage" | "searchBackend">;
  oauth: Pick<typeof OAuthModule, "TokenBroker" | "FileTokenStore" | "isMcpError">;
}

/** A supervisor host method: answers one host call of a run process. */
export type HostMethod = (
  args: Record<string, unknown>,
  context: { runId: string },
) => Promise<unknown>;

/** The engine-side hooks handed to the supervisor. */
export interface EngineAgentHooks {
  /**
   * The price of one model call (`inference.rates` first, then `inference.rate_table`, then the
   * shipped table, then the default rate, which marks the price estimated).
   */
  priceUsage: (modelRef: string, usage: AgentModule.TokenUsage) => AgentModule.PricedUsage;
  hostMethods: { resolve_model: HostMethod; mcp_token: HostMethod; web_search?: HostMethod };
}

/**
 * Build `priceUsage`, `resolve_model` and `mcp_token`.
 * @throws EngineError `VALIDATION` for a malformed `inference` config (checked here, at construction).
 */
export function createEngineAgentHooks(context: EngineAgentContext): EngineAgentHooks {
  const priceUsage = context.agent.createPriceUsage(
    context.inference.rates,
    context.inference.rate_table,
  );
  const resolve = context.agent.createModelResolver(context.inference, (name) =>
    context.getEnv(name),
  );
  const broker = new context.oauth.TokenBroker({
    store: new context.oauth.FileTokenStore(context.tokenStorePath),
    now: () => context.now(),
  });
  const search =
    context.webSearchUrl === null ? null : context.agent.searchBackend(context.webSearchUrl);
  return {
    priceUsage,
    hostMethods: {
      ...(search === null
        ? {}
        : {
            web_search: (args) => {
              const { query, limit } = args;
              if (typeof query !== "string" || query === "") {
                throw new EngineError("VALIDATION", "web_search needs a non-empty query.");
              }
              if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
                throw new EngineError("VALIDATION", "web_search needs a limit ≥ 1.");
              }
              return search(query, limit);
            },
          }),
      resolve_model: (args) => resolve(args),
      mcp_token: async (args) => {
        const { serverUrl, invalidateToken } = args;
        if (typeof serverUrl !== "string" || serverUrl.length === 0) {
          throw new EngineError("VALIDATION", "mcp_token needs a non-empty serverUrl.");
        }
        if (
          invalidateToken !== undefined &&
          (typeof invalidateToken !== "string" || invalidateToken.length === 0)
        ) {
          throw new EngineError("VALIDATION", "mcp_token: invalidateToken must be non-empty.");
        }
        try {
          return await broker.getToken(serverUrl, invalidateToken);
        } catch (error) {
          throw toEngineError(error, context.oauth.isMcpError);
        }
      },
    },
  };
}

type LoadedAgent = Pick<typeof AgentModule, "runAgent">;
let agentModule: Promise<LoadedAgent> | undefined;

/** Loads `@promenade/agent` in the run process, once, on the first `agent()` call. */
function loadAgent(): Promise<LoadedAgent> {
  agentModule ??= import("@promenade/agent");
  return agentModule;
}

let runRedactor: Redactor | undefined;

/**
 * The run's one redactor: receives `secrets.get` values, env-interpolated secrets, provider keys,
 * secret headers and MCP tokens, and redacts error messages, agent events and model requests. It
 * is `@promenade/workflow/redact`'s `Redactor`, which the agent loop uses as is (deep and
 * streamed redaction included), so nothing changes when the loop loads.
 */
export function createRunRedactor(): Redactor {
  runRedactor ??= new Redactor();
  return runRedactor;
}

/** The `agent()` implementation the child runtime calls: `@promenade/agent`'s `runAgent`. */
export const childAgent: NonNullable<ChildRuntimeOptions["agent"]> = async (
  prompt,
  options,
  host: ChildAgentHost,
) => {
  const { runAgent } = await loadAgent();
  return runAgent(prompt, options, host);
};

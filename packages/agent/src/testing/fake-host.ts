/**
 * A fake `AgentHost` builder for tests and benchmarks: it plays the run process + supervisor
 * roles the loop talks to — assigns `agent-<n>` ids, records `turn_started` and every emitted
 * body with its `turnId`, usage reports, memory dirs and resolution calls, answers
 * `resolve_model` from a fixed `ResolvedModel` (or a function) and `mcp_token` from a map.
 * It holds one `Redactor`, like a run process.
 */
import { runAgent } from "../loop.ts";
import { Redactor } from "@promenade/workflow/redact";
import type {
  AgentHost,
  AgentOptions,
  ArtifactsPort,
  BuiltinsCeiling,
  RedactorPort,
  FetchLike,
  ResolvedModel,
  SleepLike,
  TokenUsage,
} from "../ports.ts";
import type { FakeProvider } from "./fake-provider.ts";

/** A recorded event: the body as the loop sent it plus its `turnId`. */
export interface RecordedAgentEvent {
  turnId: string;
  body: { kind: string } & Record<string, unknown>;
}

/** Options of {@link createFakeAgentHost}. */
export interface FakeAgentHostOptions {
  /** The run's working dir (memory dirs are relative to it). */
  workspaceDir: string;
  /** Deployed skills dir; default null. */
  skillsDir?: string | null;
  /** The `resolve_model` answer (or a function of the call's model/provider). */
  resolve?:
    | ResolvedModel
    | ((
        model: string | undefined,
        provider: string | undefined,
      ) => ResolvedModel | Promise<ResolvedModel>);
  /** `mcp_token` answers by server URL; default: `{ accessToken: null }`. */
  mcpTokens?: Record<string, string | null>;
  /** Shared redactor; default a fresh {@link Redactor}. */
  redactor?: RedactorPort;
  fetch?: FetchLike;
  sleep?: SleepLike;
  /**
   * Answers human-input gates (`humanInput: true` calls); absent: the host offers no gate. The
   * request is recorded in `humanInputCalls` before this runs.
   */
  humanInput?: (request: { key: string; prompt: string; input: unknown }) => Promise<unknown>;
  /** The operator's built-in tool ceiling; default absent (`"all"`). */
  builtinsCeiling?: BuiltinsCeiling;
  /** The workflow's bundled `AGENTS.md` text; default none. */
  agentsMd?: string;
  /** The run's artifact store; default none (no `artifacts` tool). */
  artifacts?: ArtifactsPort;
  /** Offer `subagent` hosts (drawn from the same `agent-<n>` counter). Default `true`. */
  subagents?: boolean;
}

/** The fake and what it recorded. */
export interface FakeAgentHost {
  readonly redactor: RedactorPort;
  /** Every event in emission order (turn_started included). */
  readonly events: RecordedAgentEvent[];
  /** The usage of every `model_call` event that carried one, in order. */
  readonly usage: { modelRef: string; usage: TokenUsage }[];
  /** Every `memoryUsed` call. */
  readonly memoryUsed: string[];
  /** Every `resolveModel` call. */
  readonly resolveCalls: { model: string | undefined; provider: string | undefined }[];
  /** Every `mcpToken` call. */
  readonly mcpTokenCalls: { serverUrl: string; invalidateToken: string | undefined }[];
  /** Every human-input gate opened, in order. */
  readonly humanInputCalls: { key: string; prompt: string; input: unknown }[];
  /** A host for the next `agent()` call (`agent-<n>`, n counting calls). */
  host(options?: { name?: string }): AgentHost;
  /** `runAgent` with a fresh host, as the run process does for each `agent()` call. */
  agent(prompt: string, options?: AgentOptions): Promise<unknown>;
  /** Event kinds, optionally of one turn. */
  kinds(turnId?: string): string[];
}

/** A `ResolvedModel` pointing at a fake provider (protocol inferred from its base URL). */
export function resolvedFor(
  provider: Pick<FakeProvider, "baseUrl">,
  overrides: Partial<ResolvedModel> = {},
): ResolvedModel {
  return {
    provider: "fake",
    model: "fake-model",
    protocol: "openai",
    baseUrl: provider.baseUrl,
    apiKey: "sk-fake-key-0001",
    headers: {},
    secretHeaderNames: [],
    ...overrides,
  };
}

/** Builds a fake host family sharing one redactor and one event log. */
export function createFakeAgentHost(options: FakeAgentHostOptions): FakeAgentHost {
  const redactor = options.redactor ?? new Redactor();
  const events: RecordedAgentEvent[] = [];
  const usage: { modelRef: string; usage: TokenUsage }[] = [];
  const memoryUsed: string[] = [];
  const resolveCalls: { model: string | undefined; provider: string | undefined }[] = [];
  const mcpTokenCalls: { serverUrl: string; invalidateToken: string | undefined }[] = [];
  const humanInputCalls: { key: string; prompt: string; input: unknown }[] = [];
  let calls = 0;

  const host = (identity: { name?: string } = {}): AgentHost => {
    calls++;
    const agentId = `agent-${calls}`;
    const agentName =
      identity.name !== undefined && identity.name !== "" ? identity.name : undefined;
    const built: AgentHost = {
      identity: agentName === undefined ? { agentId } : { agentId, agentName },
      async resolveModel(model, provider) {
        resolveCalls.push({ model, provider });
        const resolve = options.resolve;
        if (resolve === undefined) throw new Error("fake host: no resolve option");
        return typeof resolve === "function" ? resolve(model, provider) : { ...resolve };
      },
      startTurn(turnId) {
        events.push({
          turnId,
          body:
            agentName === undefined
              ? { kind: "turn_started", agentId }
              : { kind: "turn_started", agentId, agentName },
        });
      },
      emit(turnId, body) {
        events.push({ turnId, body: body });
        if (body.kind === "model_call" && body.usage !== undefined) {
          usage.push({ modelRef: body.model, usage: body.usage });
        }
      },
      memoryUsed(dir) {
        memoryUsed.push(dir);
      },
      mcpToken(serverUrl, invalidateToken) {
        mcpTokenCalls.push({ serverUrl, invalidateToken });
        const token = options.mcpTokens?.[serverUrl] ?? null;
        return Promise.resolve(
          token === null
            ? { accessToken: null, hint: "fake: not authorized" }
            : { accessToken: token },
        );
      },
      redactor,
      workspaceDir: options.workspaceDir,
      skillsDir: options.skillsDir ?? null,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      ...(options.builtinsCeiling === undefined
        ? {}
        : { builtinsCeiling: options.builtinsCeiling }),
      ...(options.agentsMd === undefined ? {} : { agentsMd: options.agentsMd }),
      ...(options.artifacts === undefined ? {} : { artifacts: options.artifacts }),
    };
    if (options.subagents !== false) {
      built.subagent = (name) => host(name === undefined ? {} : { name });
    }
    const answer = options.humanInput;
    if (answer !== undefined) {
      built.humanInput = (request) => {
        humanInputCalls.push(request);
        return answer(request);
      };
    }
    return built;
  };

  return {
    redactor,
    events,
    usage,
    memoryUsed,
    resolveCalls,
    mcpTokenCalls,
    humanInputCalls,
    host,
    agent: (prompt, agentOptions) =>
      runAgent(
        prompt,
        agentOptions,
        host(agentOptions?.name === undefined ? {} : { name: agentOptions.name }),
      ),
    kinds: (turnId) =>
      events.filter((e) => turnId === undefined || e.turnId === turnId).map((e) => e.body.kind),
  };
}

/**
 * The agent host: what an injected agent loop receives for one `agent()` call. `agentId` counts
 * `agent()` calls in this run process (`agent-<n>`); model resolution, MCP tokens and human input
 * are host calls; turn starts, usage and memory use are fire-and-forget messages; agent-channel
 * events go through the runtime's depth-checked emit.
 */
import type { AgentOptions } from "@promenade/workflow/runtime";
import { EngineError } from "@promenade/workflow/errors";
import type { BatchableChildMessage } from "../protocol.ts";
import type { ChildChannel } from "./channel.ts";
import { readArtifact, writeArtifact } from "./artifacts.ts";
import { askHuman } from "./human-input.ts";
import type { ChildRedactor } from "./redactor.ts";

/** The host an injected agent loop receives for one `agent()` call. */
export interface ChildAgentHost {
  /** `agentId` = `agent-<n>`, n counting `agent()` calls in this run process. */
  identity: { agentId: string; agentName?: string };
  /** Host call `resolve_model`; resolves to the engine's `ResolvedModel` (validate it). */
  resolveModel(model?: string, provider?: string): Promise<unknown>;
  /** Opens a new cursor block; the supervisor stamps `turn_started`. */
  startTurn(turnId: string): void;
  /** Sends one agent-channel event body; the supervisor stamps its envelope. */
  emit(turnId: string, body: { kind: string } & Record<string, unknown>): void;
  /** One model call's usage; the supervisor tallies it and enforces budgets. */
  reportUsage(
    modelRef: string,
    usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number },
  ): void;
  /** A workspace-relative memory dir used by this run (persisted at success). */
  memoryUsed(dir: string): void;
  /** Host call `mcp_token`. */
  mcpToken(
    serverUrl: string,
    invalidateToken?: string,
  ): Promise<{ accessToken: string | null; hint?: string }>;
  /** The run's one redactor. */
  redactor: ChildRedactor;
  /** The run's working directory. */
  workspaceDir: string;
  /** Directory of deployed skills (`<skill>.md` files, `<skill>/SKILL.md` folders), or `null`. */
  skillsDir: string | null;
  /** The workflow's AGENTS.md text, or `null` when none was deployed. */
  agentsMd: string | null;
  /** The operator's ceiling on built-in tools. */
  builtinsCeiling: "all" | "read-only" | "none";
  /**
   * A host for a subagent leaf of this call: the next `agent-<n>` identity of this process,
   * the same run's events, usage and budgets.
   */
  subagent(name: string | undefined): ChildAgentHost;
  /**
   * Opens a human-input gate keyed `request.key` (the agent's tool-call id) and resolves with the
   * person's answer. Rejects `VALIDATION` for a malformed `input` form (no gate is opened).
   */
  humanInput(request: { key: string; prompt: string; input: unknown }): Promise<unknown>;
  /**
   * The run's artifact store for the `artifacts` built-in: `write` records an artifact exactly
   * like the SDK's `artifacts.write()` (same checks); `read` resolves with its text, or `null`
   * when the run has no artifact by that name.
   */
  artifacts: {
    write(name: string, content: string, contentType: string): Promise<void>;
    read(name: string): Promise<string | null>;
  };
  /**
   * Host call `web_search`: one search through the operator's backend, run by the engine
   * process. Present only when a backend is configured.
   */
  webSearch?(query: string, limit: number): Promise<unknown>;
}

/** What plugs the agent loop into the run process. */
export interface ChildAgentPlug {
  /**
   * The agent loop (`@promenade/agent`'s `runAgent`). Declared as a method so a loop typed with
   * its own `AgentHost` (structurally the same members) can be passed directly.
   */
  agent?(prompt: string, options: AgentOptions | undefined, host: ChildAgentHost): Promise<unknown>;
}

/** Where the run's files are, known once `init` arrived. */
export interface ChildDirs {
  workspaceDir: string;
  skillsDir: string | null;
  /** The workflow's AGENTS.md text (from `init`), or `null`. */
  agentsMd: string | null;
  /** The operator's ceiling on built-in tools (from `init`). */
  agentBuiltins: "all" | "read-only" | "none";
  /** The engine answers `web_search` host calls (from `init`). */
  webSearch: boolean;
}

/**
 * Returns the SDK's `agent()` implementation: each call builds a {@link ChildAgentHost} and hands
 * it to the plugged loop. Without one, `agent()` rejects `UNSUPPORTED`.
 */
export function createAgentCaller(
  channel: ChildChannel,
  plug: ChildAgentPlug,
  dirs: ChildDirs,
): (prompt: string, opts: AgentOptions | undefined) => Promise<unknown> {
  let agentCount = 0;
  return async (prompt, opts) => {
    if (plug.agent === undefined) {
      throw new EngineError(
        "UNSUPPORTED",
        "agent() is not available in this engine build.",
        "Run the program on an engine whose run-process entry plugs in the agent loop (@promenade/engine).",
      );
    }
    return plug.agent(prompt, opts, agentHost(opts?.name));
  };

  /** The host of one agent leaf (an `agent()` call or a subagent), with the next `agent-<n>`. */
  function agentHost(name: unknown): ChildAgentHost {
    agentCount += 1;
    const agentId = `agent-${agentCount}`;
    const identity: { agentId: string; agentName?: string } = { agentId };
    if (typeof name === "string" && name !== "") identity.agentName = name;
    const host: ChildAgentHost = {
      identity,
      resolveModel: (model, provider) => {
        const args: Record<string, unknown> = {};
        if (model !== undefined && model !== "") args.model = model;
        if (provider !== undefined && provider !== "") args.provider = provider;
        return channel.hostCall("resolve_model", args);
      },
      startTurn: (turnId) => {
        const message: BatchableChildMessage = { type: "turn_started", turnId, agentId };
        if (identity.agentName !== undefined) message.agentName = identity.agentName;
        channel.post(message);
      },
      emit: (turnId, body) => channel.emit(body, turnId),
      reportUsage: (modelRef, usage) => {
        const clean: { inputTokens?: number; outputTokens?: number; totalTokens?: number } = {};
        if (usage.inputTokens !== undefined) clean.inputTokens = usage.inputTokens;
        if (usage.outputTokens !== undefined) clean.outputTokens = usage.outputTokens;
        if (usage.totalTokens !== undefined) clean.totalTokens = usage.totalTokens;
        channel.post({ type: "report_usage", modelRef, usage: clean });
      },
      memoryUsed: (dir) => channel.post({ type: "memory_used", dir }),
      mcpToken: async (serverUrl, invalidateToken) =>
        (await channel.hostCall("mcp_token", { serverUrl, invalidateToken })) as {
          accessToken: string | null;
          hint?: string;
        },
      redactor: channel.redactor,
      workspaceDir: dirs.workspaceDir,
      skillsDir: dirs.skillsDir,
      agentsMd: dirs.agentsMd,
      builtinsCeiling: dirs.agentBuiltins,
      subagent: (subName) => agentHost(subName),
      humanInput: (request) => askHuman(channel, request),
      artifacts: {
        write: async (artifactName, content, contentType) => {
          await writeArtifact(channel, artifactName, contentType, content, undefined);
        },
        read: async (artifactName) => (await readArtifact(channel, artifactName))?.text ?? null,
      },
    };
    if (dirs.webSearch) {
      host.webSearch = (query, limit) => channel.hostCall("web_search", { query, limit });
    }
    return host;
  }
}

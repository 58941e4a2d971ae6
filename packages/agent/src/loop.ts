/**
 * The `agent()` leaf: validation, MCP connection, model resolution, the turn block
 * of model requests with sequential tool execution (tools are withheld from the request past the
 * iteration cap, so the model must answer in text), one `model_call` record per request
 * (the engine prices it and counts it against the budgets), schema mode and teardown — in that
 * observable order. Every string bound for a provider or an event goes
 * through the run's `Redactor` (history and tool specs are re-redacted whenever the secret set
 * grows); the value returned to the program is not redacted (the program is trusted).
 */
import { randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { normalizeReasoning, type Reasoning } from "@promenade/workflow";
import { EngineError, isEngineError, isEngineErrorCode } from "@promenade/workflow/errors";
import { parseAttachments, type Attachment } from "./attachments.ts";
import { closeAll, connectMcpServers, validateMcpRefs, type McpConnection } from "./mcp-tools.ts";
import {
  askHuman,
  HUMAN_INPUT_TOOL,
  humanInputGate,
  humanInputToolSpec,
} from "./human-input-tool.ts";
import { checkMemoryPath, memoryIndexBlock, memoryTools } from "./memory.ts";
import { adapterFor } from "./providers/index.ts";
import type {
  ChatMessage,
  ProviderIo,
  ToolCallRequest,
  ToolResult,
  ToolSpec,
} from "./providers/types.ts";
import { compileSchema, parseSchemaAnswer, schemaInstruction } from "./schema.ts";
import { agentsMdBlocks } from "./agents-md.ts";
import type { BuiltinContext } from "./builtins/context.ts";
import { insidePath } from "./builtins/paths.ts";
import {
  checkCeiling,
  createBuiltinTools,
  selectBuiltins,
  SUBAGENT_TOOL,
} from "./builtins/registry.ts";
import { subagentTool, type SubagentRequest } from "./builtins/subagent.ts";
import { RUN_CODE_TOOL, runCodeTool } from "./builtins/run-code.ts";
import { loadSkills, skillCatalogBlock, skillTool } from "./skills.ts";
import { assertUniqueToolNames, humanSummary, wrapToolEntry, type AgentTool } from "./tools.ts";
import { liveOutput } from "./tool-output.ts";
import type {
  AgentEventBody,
  AgentHost,
  AgentOptions,
  ModelCallRecord,
  ResolvedModel,
  TokenUsage,
  ToolDef,
} from "./ports.ts";
import { toLoopRedactor, type LoopRedactor } from "./loop-redactor.ts";

/** Tool-calling turns per `agent()` call when `maxIterations` is absent or unusable. */
export const DEFAULT_MAX_ITERATIONS = 500;

/**
 * The tool-calling turns a leaf may take: `maxIterations` when it is a positive integer,
 * otherwise {@link DEFAULT_MAX_ITERATIONS} (a non-integer or a value below 1 is ignored).
 * The request after the last of those turns is sent with no tools.
 */
export function iterationCap(maxIterations: unknown): number {
  return typeof maxIterations === "number" &&
    Number.isSafeInteger(maxIterations) &&
    maxIterations >= 1
    ? maxIterations
    : DEFAULT_MAX_ITERATIONS;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalArray(field: string, value: unknown): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new EngineError("VALIDATION", `agent() option "${field}" must be an array.`);
  return value as unknown[];
}

/**
 * Re-validates a `resolve_model` result in the run process (it crossed IPC).
 * @throws EngineError `INTERNAL` when the host returned something else.
 */
export function assertResolvedModel(value: unknown): ResolvedModel {
  const ok =
    isRecord(value) &&
    typeof value.provider === "string" &&
    value.provider !== "" &&
    typeof value.model === "string" &&
    value.model !== "" &&
    (value.protocol === "openai" ||
      value.protocol === "anthropic" ||
      value.protocol === "gemini") &&
    typeof value.baseUrl === "string" &&
    (value.apiKey === null || typeof value.apiKey === "string") &&
    isRecord(value.headers) &&
    Object.values(value.headers).every((v) => typeof v === "string") &&
    Array.isArray(value.secretHeaderNames) &&
    value.secretHeaderNames.every((v) => typeof v === "string") &&
    (value.requestTimeoutMs === undefined ||
      (typeof value.requestTimeoutMs === "number" && value.requestTimeoutMs > 0));
  if (!ok) {
    throw new EngineError("INTERNAL", "resolve_model returned a malformed ResolvedModel.");
  }
  return value as unknown as ResolvedModel;
}

function errorCode(err: unknown, fallback: "PROVIDER_ERROR" | "PROGRAM_ERROR"): string {
  if (isEngineError(err)) return err.code;
  const code = isRecord(err) ? err.code : undefined;
  return typeof code === "string" && isEngineErrorCode(code) ? code : fallback;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return "non-error value thrown";
  }
}

// Errors already redacted once: redacting twice could rewrite text inside a replacement token.
const redactedErrors = new WeakSet<EngineError>();

/** An `EngineError` whose message and hint are redacted; non-engine errors become `fallback`. */
function redactedError(
  err: unknown,
  redactor: LoopRedactor,
  fallback: "PROVIDER_ERROR",
): EngineError {
  if (isEngineError(err) && redactedErrors.has(err)) return err;
  const code = errorCode(err, fallback) as EngineError["code"];
  const hint = isEngineError(err) ? err.hint : undefined;
  const error = new EngineError(
    code,
    redactor.redact(errorMessage(err)),
    hint === undefined ? undefined : redactor.redact(hint),
    { cause: err },
  );
  redactedErrors.add(error);
  return error;
}

/** Redacts the conversation lazily: new messages once, everything again when secrets change. */
class RedactedHistory {
  readonly #redactor: LoopRedactor;
  readonly #raw: ChatMessage[] = [];
  #redacted: ChatMessage[] = [];
  #version = -1;

  constructor(redactor: LoopRedactor) {
    this.#redactor = redactor;
  }

  push(message: ChatMessage): void {
    this.#raw.push(message);
  }

  view(): readonly ChatMessage[] {
    if (this.#version !== this.#redactor.version) {
      this.#redacted = [];
      this.#version = this.#redactor.version;
    }
    for (let i = this.#redacted.length; i < this.#raw.length; i++) {
      this.#redacted.push(this.#redactOne(this.#raw[i]!));
    }
    return this.#redacted;
  }

  #redactOne(message: ChatMessage): ChatMessage {
    const r = this.#redactor;
    if (message.role === "user") {
      // Attachment bytes go as given: they are the program's files, not text to rewrite.
      return message.attachments === undefined
        ? { role: "user", text: r.redact(message.text) }
        : { role: "user", text: r.redact(message.text), attachments: message.attachments };
    }
    if (message.role === "assistant") {
      return {
        role: "assistant",
        text: r.redact(message.text),
        // Signed by the provider and sent back unchanged, as the API requires.
        ...(message.thinking === undefined ? {} : { thinking: message.thinking }),
        toolCalls: message.toolCalls.map((call) => {
          const out: ToolCallRequest = {
            id: call.id,
            name: r.redact(call.name),
            input: r.redactDeep(call.input),
          };
          if (call.inputError !== undefined) out.inputError = r.redact(call.inputError);
          if (call.rawArguments !== undefined) out.rawArguments = r.redact(call.rawArguments);
          return out;
        }),
      };
    }
    return {
      role: "tool_results",
      results: message.results.map((result) => ({ ...result, content: r.redact(result.content) })),
    };
  }
}

/**
 * Runs one `agent()` leaf. Resolves to the final text, or to the parsed JSON value
 * in schema mode.
 * @throws EngineError `VALIDATION` (malformed options, duplicate tool names, schema-mode
 *   failures), `UNSUPPORTED` (built-in tool names), `MODEL_UNRESOLVED` / `PROVIDER_ERROR`
 *   (resolution, MCP connection, provider failures). Messages and hints are redacted.
 */
export function runAgent(
  prompt: string,
  options: AgentOptions | undefined,
  host: AgentHost,
): Promise<unknown> {
  return runLeaf(prompt, options, host, false);
}

/**
 * The leaf's working directory: the workspace, or the call's `cwd` below it.
 * @throws EngineError `VALIDATION` for a `cwd` that is not a string, leaves the workspace or is
 *   not an existing directory.
 */
function workingDir(workspaceDir: string, cwd: unknown): string {
  if (cwd === undefined) return workspaceDir;
  let dir: string | undefined;
  try {
    dir = insidePath(workspaceDir, cwd, "cwd");
  } catch {
    dir = undefined;
  }
  let isDir = false;
  try {
    isDir = dir !== undefined && statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (dir === undefined || !isDir) {
    throw new EngineError(
      "VALIDATION",
      `agent() option "cwd" ${JSON.stringify(cwd)} must name an existing directory inside the run workspace.`,
      'Use a workspace-relative path such as "repo", and create the directory first.',
    );
  }
  return dir;
}

async function runLeaf(
  prompt: string,
  options: AgentOptions | undefined,
  host: AgentHost,
  isSubagent: boolean,
): Promise<unknown> {
  const redactor = toLoopRedactor(host.redactor);
  const given: unknown = options ?? {};
  const opts = (isRecord(given) ? given : {}) as AgentOptions;
  let connections: McpConnection[] = [];
  try {
    // 1. Synchronous validation: nothing spawned, no network.
    if (typeof prompt !== "string")
      throw new EngineError("VALIDATION", "agent() prompt must be a string.");
    if (!isRecord(given)) throw new EngineError("VALIDATION", "agent() options must be an object.");
    const mcpRefs = validateMcpRefs(opts.mcp);
    const reasoning = normalizeReasoning(opts.reasoning);
    const attachments = parseAttachments(opts.attachments);
    if (opts.session !== undefined) {
      throw new EngineError(
        "UNSUPPORTED",
        'agent() option "session" (a hosted browser session) is not available on this engine.',
        'Remove "session"; use the built-in webfetch tool or an MCP browser server instead.',
      );
    }
    const root = workingDir(host.workspaceDir, opts.cwd);
    const inlineEntries = optionalArray("tools", opts.tools);
    const tools: AgentTool[] = inlineEntries.map((entry, i) => wrapToolEntry(entry, i));
    const inlineNames = tools.map((tool) => tool.spec.name);
    const skills = loadSkills(optionalArray("skills", opts.skills), host.skillsDir);
    const builtinNames = selectBuiltins(opts.builtins, checkCeiling(host.builtinsCeiling), {
      artifacts: host.artifacts !== undefined,
      subagent: !isSubagent && host.subagent !== undefined,
      webSearch: host.webSearch !== undefined,
    });
    const agentsMd = agentsMdBlocks(host.agentsMd, root);
    let memoryBlock: string | undefined;
    if (opts.memory !== undefined) {
      const memory = checkMemoryPath(opts.memory);
      const memDir = join(host.workspaceDir, memory);
      tools.push(...memoryTools(memory, memDir));
      memoryBlock = memoryIndexBlock(memory, memDir);
    }
    if (opts.humanInput !== undefined && typeof opts.humanInput !== "boolean") {
      throw new EngineError("VALIDATION", 'agent() option "humanInput" must be a boolean.');
    }
    // Subagents never ask a person.
    const ask = opts.humanInput === true && !isSubagent ? humanInputGate(host) : null;
    if (ask !== null) {
      tools.push({
        spec: humanInputToolSpec,
        // Calls of this tool are answered by the gate (see `loop`), never through `execute`.
        execute: () => Promise.reject(new EngineError("INTERNAL", "human_input runs as a gate.")),
      });
    }
    const webSearch = host.webSearch?.bind(host);
    const context: BuiltinContext = {
      root,
      fetch: globalThis.fetch,
      todos: [],
      ...(host.artifacts === undefined ? {} : { artifacts: host.artifacts }),
      ...(webSearch === undefined ? {} : { webSearch }),
    };
    tools.push(...createBuiltinTools(builtinNames, context));
    if (builtinNames.includes(SUBAGENT_TOOL)) {
      const grantable = [...builtinNames.filter((name) => name !== SUBAGENT_TOOL), ...inlineNames];
      const spawn = (request: SubagentRequest): Promise<unknown> => {
        const child: AgentOptions = {
          builtins: builtinNames.filter((name) => request.tools.includes(name)),
          tools: inlineEntries.filter((_, i) =>
            request.tools.includes(inlineNames[i]!),
          ) as ToolDef[],
        };
        const model = request.model ?? opts.model;
        const provider = request.provider ?? opts.provider;
        if (request.name !== undefined) child.name = request.name;
        if (model !== undefined) child.model = model;
        if (provider !== undefined) child.provider = provider;
        if (request.memory !== undefined) child.memory = request.memory;
        if (opts.cwd !== undefined) child.cwd = opts.cwd;
        if (opts.reasoning !== undefined) child.reasoning = opts.reasoning;
        const childHost = host.subagent?.(request.name);
        if (childHost === undefined) {
          return Promise.reject(new EngineError("UNSUPPORTED", "This run cannot start subagents."));
        }
        return runLeaf(request.prompt, child, childHost, true);
      };
      tools.push(subagentTool(grantable, spawn));
    }
    // Reads the finished list when a snippet runs, so MCP tools connected below count too.
    if (builtinNames.includes(RUN_CODE_TOOL)) tools.push(runCodeTool(() => tools, redactor));
    if (skills.folders.length > 0) tools.push(skillTool(skills.folders));
    const validate = opts.schema === undefined ? undefined : await compileSchema(opts.schema);
    assertUniqueToolNames(tools);

    // 2. Memory dir reported once, as given.
    if (opts.memory !== undefined) host.memoryUsed(opts.memory);

    // 3–4. MCP servers, sequentially; then uniqueness over the merged set.
    connections = await connectMcpServers(mcpRefs, host);
    for (const connection of connections) tools.push(...connection.tools);
    assertUniqueToolNames(tools);

    // 5–6. Resolution; key material registered before anything reaches a provider or event.
    for (const field of ["model", "provider"] as const) {
      const value: unknown = opts[field];
      if (value !== undefined && (typeof value !== "string" || value === "")) {
        throw new EngineError(
          "VALIDATION",
          `agent() option "${field}" must be a non-empty string when present.`,
          `Omit "${field}" to use the engine default.`,
        );
      }
    }
    const resolved = assertResolvedModel(await host.resolveModel(opts.model, opts.provider));
    if (resolved.apiKey !== null) redactor.add(`api-key:${resolved.provider}`, resolved.apiKey);
    for (const name of resolved.secretHeaderNames) {
      const value = resolved.headers[name];
      if (value !== undefined) redactor.add(`header:${name}`, value);
    }

    // 7. First message and the turn block.
    const parts = [...agentsMd, ...skills.inlineBlocks];
    if (skills.folders.length > 0) parts.push(skillCatalogBlock(skills.folders));
    if (memoryBlock !== undefined) parts.push(memoryBlock);
    parts.push(prompt);
    if (opts.schema !== undefined) parts.push(schemaInstruction(opts.schema));
    const agentName =
      typeof opts.name === "string" && opts.name !== ""
        ? opts.name
        : host.identity.agentName || undefined;
    const turnId = `turn-${randomUUID()}`;
    host.startTurn(turnId);

    // 8. The loop; turn_ended closes the block either way.
    let finalText: string;
    let usage: { inputTokens: number; outputTokens: number };
    try {
      ({ finalText, usage } = await loop(
        host,
        redactor,
        resolved,
        turnId,
        { text: parts.join("\n\n"), attachments, reasoning },
        tools,
        ask,
        iterationCap(opts.maxIterations),
      ));
    } catch (err) {
      const error = redactedError(err, redactor, "PROVIDER_ERROR");
      host.emit(turnId, {
        kind: "turn_ended",
        agentId: host.identity.agentId,
        ...(agentName === undefined ? {} : { agentName }),
        reason: "error",
        error: { code: error.code, message: error.message },
      });
      throw error;
    }
    host.emit(turnId, {
      kind: "turn_ended",
      agentId: host.identity.agentId,
      ...(agentName === undefined ? {} : { agentName }),
      reason: "complete",
      usage,
    });

    // 9. Schema mode, after the turn closed.
    if (validate === undefined) return finalText;
    return parseSchemaAnswer(finalText, validate, (s) => redactor.redact(s));
  } catch (err) {
    throw redactedError(err, redactor, "PROVIDER_ERROR");
  } finally {
    // 10. Always disconnect.
    await closeAll(connections);
  }
}

async function loop(
  host: AgentHost,
  redactor: LoopRedactor,
  resolved: ResolvedModel,
  turnId: string,
  first: { text: string; attachments: readonly Attachment[]; reasoning: Reasoning | undefined },
  tools: readonly AgentTool[],
  ask: Parameters<typeof askHuman>[0] | null,
  cap: number,
): Promise<{ finalText: string; usage: { inputTokens: number; outputTokens: number } }> {
  const emit = (body: AgentEventBody): void => host.emit(turnId, body);
  const adapter = adapterFor(resolved.protocol);
  const byName = new Map(tools.map((tool) => [tool.spec.name, tool]));
  const history = new RedactedHistory(redactor);
  history.push(
    first.attachments.length === 0
      ? { role: "user", text: first.text }
      : { role: "user", text: first.text, attachments: first.attachments },
  );
  const reasoning = first.reasoning;
  // `exclude` asks for reasoning without seeing it: no reasoning events then.
  const showReasoning = reasoning?.exclude !== true;
  let specs: ToolSpec[] = [];
  let specsVersion = -1;
  const usage = { inputTokens: 0, outputTokens: 0 };
  const fetchImpl = host.fetch ?? globalThis.fetch;
  const sleep = host.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));

  for (let iteration = 1; ; iteration++) {
    // Past the cap the request carries no tools: the model has to answer, and its text is final.
    const lastTurn = iteration > cap;
    if (specsVersion !== redactor.version) {
      specs = tools.map((tool) => redactor.redactDeep(tool.spec));
      specsVersion = redactor.version;
    }
    const blockId = `text-${iteration}`;
    let started = false;
    const stream = redactor.stream();
    const emitText = (text: string): void => {
      if (text === "") return;
      if (!started) {
        started = true;
        emit({ kind: "text_start", blockId });
      }
      emit({ kind: "text_delta", blockId, text });
    };
    const thoughts = redactor.stream();
    const emitReasoning = (text: string): void => {
      if (text !== "") emit({ kind: "reasoning_delta", text });
    };
    const io: ProviderIo = {
      fetch: fetchImpl,
      sleep,
      onText: (text, whole) => emitText(whole ? redactor.redact(text) : stream.push(text)),
      ...(showReasoning ? { onReasoning: (text) => emitReasoning(thoughts.push(text)) } : {}),
    };
    if (resolved.requestTimeoutMs !== undefined) io.timeoutMs = resolved.requestTimeoutMs;
    let turn;
    const call: ModelCallRecord = {
      model: resolved.model,
      provider: resolved.provider,
      startedAt: Date.now(),
      endedAt: 0,
    };
    try {
      turn = await adapter(
        {
          baseUrl: resolved.baseUrl,
          apiKey: resolved.apiKey,
          headers: resolved.headers,
          model: resolved.model,
          messages: history.view(),
          tools: lastTurn ? [] : specs,
          ...(lastTurn ? { historyTools: specs } : {}),
          ...(reasoning === undefined ? {} : { reasoning }),
        },
        io,
      );
    } catch (err) {
      call.endedAt = Date.now();
      const error = redactedError(err, redactor, "PROVIDER_ERROR");
      call.error = { code: error.code, message: error.message };
      throw err;
    } finally {
      emitReasoning(thoughts.flush());
      emitText(stream.flush());
      if (started) emit({ kind: "text_end", blockId });
      if (call.error !== undefined) emit({ kind: "model_call", ...call });
    }
    call.endedAt = Date.now();
    const callUsage = callUsageOf(turn.usage);
    if (callUsage !== undefined) call.usage = callUsage;
    emit({ kind: "model_call", ...call });
    usage.inputTokens += callUsage?.inputTokens ?? 0;
    usage.outputTokens += callUsage?.outputTokens ?? 0;
    if (lastTurn || !turn.wantsTools || turn.toolCalls.length === 0) {
      return { finalText: turn.text, usage };
    }

    history.push({
      role: "assistant",
      text: turn.text,
      toolCalls: turn.toolCalls,
      ...(turn.thinking === undefined ? {} : { thinking: turn.thinking }),
    });
    // Tool calls run in order, each once; `human_input` gates and concurrent tools (`subagent`)
    // start as they come and the turn continues once every one of them has finished (no model
    // request while a gate is pending).
    const results: ToolResult[] = [];
    const asking: Promise<void>[] = [];
    for (const call of turn.toolCalls) {
      if (ask !== null && call.name === HUMAN_INPUT_TOOL && call.inputError === undefined) {
        const index = results.push({ id: call.id, name: call.name, content: "", isError: true });
        asking.push(
          executeHumanInput(call, ask, redactor, emit).then((result) => {
            results[index - 1] = result;
          }),
        );
        continue;
      }
      const tool = byName.get(call.name);
      if (tool?.concurrent === true && call.inputError === undefined) {
        const index = results.push({ id: call.id, name: call.name, content: "", isError: true });
        asking.push(
          executeToolCall(call, byName, redactor, emit).then((result) => {
            results[index - 1] = result;
          }),
        );
        continue;
      }
      results.push(await executeToolCall(call, byName, redactor, emit));
    }
    for (const outcome of await Promise.allSettled(asking)) {
      if (outcome.status === "rejected") throw outcome.reason;
    }
    history.push({ role: "tool_results", results });
  }
}

/** One `human_input` call: the tool frames, the gate, then its result or tool error. */
async function executeHumanInput(
  call: ToolCallRequest,
  ask: Parameters<typeof askHuman>[0],
  redactor: LoopRedactor,
  emit: (body: AgentEventBody) => void,
): Promise<ToolResult> {
  const toolCallId = call.id;
  emit({ kind: "tool_call_start", toolCallId, toolName: call.name });
  emit({ kind: "tool_call_input_complete", toolCallId, input: redactor.redactDeep(call.input) });
  emit({ kind: "tool_call_executing", toolCallId });
  const outcome = await askHuman(ask, toolCallId, call.input);
  if (!outcome.ok) {
    const message = redactor.redact(outcome.message);
    emit({ kind: "tool_call_error", toolCallId, error: { code: outcome.code, message } });
    return { id: toolCallId, name: call.name, content: `Tool failed: ${message}`, isError: true };
  }
  emit({ kind: "tool_call_result", toolCallId, result: { humanSummary: "human responded" } });
  return { id: toolCallId, name: call.name, content: outcome.content, isError: false };
}

/** The token counts of one provider response, only those it reported. */
function callUsageOf(usage: TokenUsage): ModelCallRecord["usage"] {
  const out: NonNullable<ModelCallRecord["usage"]> = {};
  for (const key of [
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheCreationTokens",
    "reasoningTokens",
  ] as const) {
    const value = usage[key];
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) out[key] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

async function executeToolCall(
  call: ToolCallRequest,
  byName: ReadonlyMap<string, AgentTool>,
  redactor: LoopRedactor,
  emit: (body: AgentEventBody) => void,
): Promise<ToolResult> {
  const toolCallId = call.id;
  const fail = (code: string, message: string, modelText: string): ToolResult => {
    emit({
      kind: "tool_call_error",
      toolCallId,
      error: { code, message: redactor.redact(message) },
    });
    return { id: toolCallId, name: call.name, content: modelText, isError: true };
  };
  emit({ kind: "tool_call_start", toolCallId, toolName: redactor.redact(call.name) });
  if (call.inputError !== undefined) {
    return fail("VALIDATION", call.inputError, `Tool failed: ${call.inputError}`);
  }
  emit({ kind: "tool_call_input_complete", toolCallId, input: redactor.redactDeep(call.input) });
  const tool = byName.get(call.name);
  if (tool === undefined) {
    const message = `Unknown tool "${call.name}".`;
    return fail("VALIDATION", message, message);
  }
  emit({ kind: "tool_call_executing", toolCallId });
  const live = liveOutput(toolCallId, redactor, emit);
  let content: string;
  try {
    content = await tool.execute(call.input, live.context);
  } catch (err) {
    live.end();
    const message = errorMessage(err);
    return fail(errorCode(err, "PROGRAM_ERROR"), message, `Tool failed: ${message}`);
  }
  live.end();
  emit({
    kind: "tool_call_result",
    toolCallId,
    result: { humanSummary: humanSummary(redactor.redact(content)) },
  });
  return { id: toolCallId, name: call.name, content, isError: false };
}

/**
 * `@promenade/agent/testing`: scripted model providers as real local HTTP servers (OpenAI,
 * Anthropic, Gemini wire formats) and a fake `AgentHost` builder, shared by this package's
 * tests, the engine's integration tests and third parties.
 */
export {
  startFakeProvider,
  startFakeOpenAiProvider,
  startFakeAnthropicProvider,
  startFakeGeminiProvider,
  openAiText,
  openAiToolCalls,
  openAiStream,
  anthropicStream,
  geminiStream,
  type FakeProvider,
  type FakeProviderOptions,
  type FakeReply,
  type FakeScriptEntry,
  type FakeToolCall,
  type FakeToolUse,
  type FakeUsage,
  type RecordedRequest,
} from "./fake-provider.ts";
export {
  createFakeAgentHost,
  resolvedFor,
  type FakeAgentHost,
  type FakeAgentHostOptions,
  type RecordedAgentEvent,
} from "./fake-host.ts";

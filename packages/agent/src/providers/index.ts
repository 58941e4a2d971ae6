/**
 * Adapter lookup by wire protocol. The loop asks for an adapter here and never imports one
 * directly, so adding a protocol is one entry.
 */
import { anthropicChat } from "./anthropic.ts";
import { geminiChat } from "./gemini.ts";
import { openAiChat } from "./openai.ts";
import type { ChatAdapter } from "./types.ts";
import type { ProviderProtocol } from "../ports.ts";

const ADAPTERS: Readonly<Record<ProviderProtocol, ChatAdapter>> = {
  openai: openAiChat,
  anthropic: anthropicChat,
  gemini: geminiChat,
};

/** The adapter for `protocol`. */
export function adapterFor(protocol: ProviderProtocol): ChatAdapter {
  return ADAPTERS[protocol];
}

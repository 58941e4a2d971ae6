// A workflow that runs an agent (a tool-using model loop). It needs a model provider; nothing is
// called until you configure one. Pick one of these before `pnpm start`:
//
//   * Anthropic:  ANTHROPIC_API_KEY=sk-ant-…  PROMENADE_DEFAULT_PROVIDER=anthropic \
//                 PROMENADE_DEFAULT_MODEL=claude-sonnet-4-5
//   * OpenAI:     OPENAI_API_KEY=sk-…  PROMENADE_DEFAULT_PROVIDER=openai  PROMENADE_DEFAULT_MODEL=gpt-4.1-mini
//   * Any OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, …):
//       PROMENADE_PROVIDERS='{"local":{"base_url":"http://127.0.0.1:11434/v1","protocol":"openai"}}'
//       PROMENADE_DEFAULT_PROVIDER=local  PROMENADE_DEFAULT_MODEL=llama3.2
//     A hosted one that needs a key names the variable holding it with "api_key_env":
//       PROMENADE_PROVIDERS='{"groq":{"base_url":"https://api.groq.com/openai/v1","api_key_env":"GROQ_API_KEY"}}'
//       GROQ_API_KEY=gsk_…  PROMENADE_DEFAULT_PROVIDER=groq  PROMENADE_DEFAULT_MODEL=llama-3.3-70b-versatile
//
// Keys can also live in <data-dir>/.env (e.g. .promenade-data/.env, one NAME=value per line)
// instead of the shell; they are never logged. A single call can override the defaults:
// agent(prompt, { provider: "openai", model: "gpt-4.1" }). Without a provider the run fails fast
// with MODEL_UNRESOLVED naming the variables to set. The run page shows each agent turn: the
// tool calls, their results and the answer.
import { agent, input, output, phase } from "@promenade/workflow";

export const meta = {
  slug: "ask-agent",
  title: "Ask an agent",
  description: "Asks a model a question, with one program-defined tool it may call.",
  triggers: [{ kind: "manual" }],
};

const question =
  (input as { question?: string } | null)?.question ??
  "What is a durable workflow, in two sentences?";

phase("think");
const answer = await agent(question, {
  name: "explainer",
  tools: [
    {
      name: "current_time",
      description: "Returns the current time as an ISO-8601 string.",
      inputSchema: { type: "object", properties: {} },
      execute: () => Promise.resolve(new Date().toISOString()),
    },
  ],
});

output({ question, answer });

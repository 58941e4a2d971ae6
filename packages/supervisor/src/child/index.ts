/**
 * `@promenade/supervisor/child`: the run-process side. The engine's shipped child entry calls
 * `runChild({ agent, redactor })`; the runtime (`runtime.ts`) waits for `init`, installs the SDK
 * host (`host.ts`), evaluates the program and reports its output.
 *
 * Injection seam: `agent(prompt, options, host)` is called for every `agent()` with a
 * {@link ChildAgentHost} (`agent-host.ts`: identity, resolveModel, startTurn, emit, reportUsage,
 * memoryUsed, mcpToken, redactor, workspaceDir, skillsDir, humanInput), so `@promenade/agent`'s
 * `runAgent` plugs in as is; `redactor` is the run's one redactor, which also receives
 * `secrets.get` values and env-interpolated secrets. Without `agent`, `agent()` rejects
 * `UNSUPPORTED`. Import graph kept tiny for start latency: no zod, SDK runtime loaded lazily.
 */
export { runChild } from "./runtime.ts";
export type { ChildRuntimeOptions } from "./runtime.ts";
export type { ChildAgentHost } from "./agent-host.ts";
export { createRedactor } from "./redactor.ts";
export type { ChildRedactor } from "./redactor.ts";

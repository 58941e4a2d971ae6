/**
 * The shipped run-process entry (`dist/run/child.js`): the file every run process executes. The engine
 * ships it because it is the only package allowed to depend on both the supervisor and the agent.
 * It hands the supervisor's child runtime the two pieces only the engine may combine — the agent
 * loop and the run's redactor (see `agent-plug.ts`) — and the runtime does the rest. Keep it tiny:
 * everything imported here is paid on every run start.
 */
import { runChild } from "@promenade/supervisor/child";
import { childAgent, createRunRedactor } from "./agent-plug.ts";
import { resolveSdkFrom } from "./sdk-resolve.ts";

export * from "./run-sdk.ts";

// A pooled process imports `warm-up.js` (beside this file: it imports the SDK as a program does)
// while it idles. Where the SDK names resolve only through a run directory's links, it could
// not resolve them from here, and is left out.
const hooked = resolveSdkFrom(new URL("./sdk/", import.meta.url));
runChild({
  agent: childAgent,
  redactor: createRunRedactor(),
  ...(hooked ? { warmUpModule: new URL("./warm-up.js", import.meta.url).href } : {}),
});

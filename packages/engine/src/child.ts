/**
 * The shipped run-process entry (`dist/child.js`, spec 02 §1 rule 3): the file every run process
 * executes. It hands the supervisor's child runtime the two pieces only the engine may combine —
 * the agent loop and the run's redactor (see `agent-plug.ts`) — and the runtime does the rest.
 * Keep it tiny: everything imported here is paid on every run start.
 */
import { runChild } from "@promenade/supervisor/child";
import { childAgent, createRunRedactor } from "./agent-plug.ts";

runChild({ agent: childAgent, redactor: createRunRedactor() });

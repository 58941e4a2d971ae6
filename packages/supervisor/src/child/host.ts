/**
 * The SDK host of a run process: the {@link WorkflowHost} the SDK calls into. Child workflows,
 * secrets, human input and artifacts are host calls over the channel; phases are events; `sleep`
 * waits in this process; `agent()` goes to the agent host.
 */
import type {
  CallOptions,
  HumanInputOptions,
  HumanInputResult,
  PhaseOptions,
  SleepArg,
  WorkflowHost,
} from "@promenade/workflow/runtime";
import { EngineError } from "@promenade/workflow/errors";
import { createAgentCaller } from "./agent-host.ts";
import { writeArtifact } from "./artifacts.ts";
import type { ChildAgentPlug, ChildDirs } from "./agent-host.ts";
import type { ChildChannel } from "./channel.ts";
import { askHuman } from "./human-input.ts";
import { toJsonValue } from "./json.ts";

const MAX_TIMER_MS = 2_147_483_647;
const SLEEP_FORMS =
  "sleep() accepts a number of milliseconds, { durationMs: number } or { until: string | Date }.";

/**
 * Builds the SDK host for one run process. Phase ids default to `phase-<n>` and human-input keys
 * to `input-<n>`, n counting this process's calls from 1.
 */
export function createWorkflowHost(
  channel: ChildChannel,
  plug: ChildAgentPlug,
  dirs: ChildDirs,
): WorkflowHost {
  let phaseCount = 0;
  let inputCount = 0;
  const agent = createAgentCaller(channel, plug, dirs);
  return {
    agent,
    callWorkflow: (slug, input, opts) => startWorkflow(channel, "call_workflow", slug, input, opts),
    runWorkflow: async (slug, input, opts) =>
      (await startWorkflow(channel, "run_workflow", slug, input, opts)) as string,
    sleep: (arg) => sleep(arg),
    getSecret: async (name) => {
      const value = (await channel.hostCall("get_secret", { name })) as string;
      channel.redactor.add(name, value);
      return value;
    },
    setPhase: (name: string, opts: PhaseOptions | undefined) => {
      phaseCount += 1;
      const id = opts?.id ?? `phase-${phaseCount}`;
      // A marker with an empty name or id is not emitted (a phase needs both); the call still returns.
      if (typeof name !== "string" || name === "" || typeof id !== "string" || id === "") return;
      channel.emit({ kind: "phase", name, id });
    },
    writeArtifact: (name, contentType, body, metadata) =>
      writeArtifact(channel, name, contentType, body, metadata),
    humanInput: async (opts: HumanInputOptions): Promise<HumanInputResult> => {
      inputCount += 1;
      if (typeof opts !== "object" || (opts as unknown) === null) {
        throw new EngineError(
          "VALIDATION",
          "humanInput(opts) needs an options object: { prompt, input, key?, timeout?, onTimeout? }.",
        );
      }
      const key = opts.key ?? `input-${inputCount}`;
      return (await askHuman(channel, { ...opts, key })) as HumanInputResult;
    },
  };
}

async function startWorkflow(
  channel: ChildChannel,
  method: "call_workflow" | "run_workflow",
  slug: string,
  input: unknown,
  opts: CallOptions | undefined,
): Promise<unknown> {
  const hook = method === "call_workflow" ? "workflows.call" : "workflows.run";
  const json = toJsonValue(input, `${hook} input`);
  const args: Record<string, unknown> = { slug, input: json };
  if (opts?.idempotencyKey !== undefined) args.idempotencyKey = opts.idempotencyKey;
  return channel.hostCall(method, args);
}

/** Waits in chunks (timers cap at 2^31−1 ms); holds the process while waiting. */
async function sleep(arg: SleepArg): Promise<void> {
  const ms = sleepMs(arg);
  let left = ms;
  while (left > 0) {
    const chunk = Math.min(left, MAX_TIMER_MS);
    const end = Date.now() + left;
    await new Promise<void>((resolve) => setTimeout(resolve, chunk));
    left = end - Date.now();
  }
}

function sleepMs(arg: SleepArg): number {
  if (typeof arg === "number") {
    if (!Number.isFinite(arg)) throw sleepError(`got ${String(arg)}`);
    return arg;
  }
  if (arg !== null && typeof arg === "object") {
    const record = arg as Record<string, unknown>;
    if (record.durationMs !== undefined) {
      const value = record.durationMs;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw sleepError(`durationMs is a ${typeof value}, not a finite number`);
      }
      return value;
    }
    if (record.until !== undefined) {
      const until = record.until;
      let target: number;
      if (typeof until === "string") target = Date.parse(until);
      else if (until instanceof Date) target = until.getTime();
      else throw sleepError("until must be a string or a Date");
      if (Number.isNaN(target))
        throw sleepError(`until ${JSON.stringify(String(until))} is not a valid date`);
      return target - Date.now();
    }
  }
  throw sleepError("unrecognised argument");
}

function sleepError(problem: string): EngineError {
  return new EngineError("VALIDATION", `${SLEEP_FORMS} (${problem})`);
}

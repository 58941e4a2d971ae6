/**
 * `@promenade/workflow/runtime`: the engine-facing seam. An engine's run entry
 * installs the host, `input` and `config` here, imports the program, then takes the declared
 * output. Shares one state module with `.` (the build keeps it in one chunk), so a host installed
 * here is the host the program's primitives see. The only door in: named re-exports, nothing else.
 */
export {
  installConfig,
  installHost,
  installInput,
  installRunInfo,
  requireHost,
  resetRuntime,
  takeDeclaredOutput,
} from "./host-seam.ts";
export type { WorkflowHost } from "../ports.ts";
export type { RunInfo } from "../internal/state.ts";
export type {
  AgentOptions,
  ArtifactBody,
  ArtifactRef,
  CallOptions,
  HumanChoiceResult,
  HumanInputChoiceSpec,
  HumanInputMultiSelectSpec,
  HumanInputOptions,
  HumanInputResult,
  HumanInputSpec,
  HumanInputTextSpec,
  HumanMultiSelectResult,
  HumanTextResult,
  JsonSchema,
  JsonValue,
  PhaseOptions,
  SleepArg,
  ToolDef,
} from "../types.ts";

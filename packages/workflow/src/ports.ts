/**
 * The one port this package declares: `WorkflowHost`, the seam through which the author
 * primitives reach an engine. Third-party engines implement it structurally.
 * The SDK never validates or copies what passes through it: arguments go to the host exactly as
 * the program gave them (omitted optionals as `undefined`), results come back unchanged.
 */
import type {
  AgentOptions,
  ArtifactBody,
  ArtifactRef,
  CallOptions,
  HumanInputOptions,
  HumanInputResult,
  PhaseOptions,
  SleepArg,
} from "./types.ts";

/**
 * What an engine installs (via `installHost` from `@promenade/workflow/runtime`) before it
 * evaluates a program. The first four methods are required; the others are optional
 * capabilities, and the matching primitive fails with "… is not supported by the installed
 * engine" when one is absent.
 */
export interface WorkflowHost {
  /** Backs `agent()`; resolves to the leaf's final text, or the parsed value in schema mode. */
  agent(prompt: string, opts: AgentOptions | undefined): Promise<unknown>;
  /** Backs `workflows.call`; resolves to the child's declared output (`null` if none). */
  callWorkflow(slug: string, input: unknown, opts: CallOptions | undefined): Promise<unknown>;
  /** Backs `sleep`; validates the argument (`VALIDATION` for non-finite / unparseable forms). */
  sleep(arg: SleepArg): Promise<void>;
  /** Backs `secrets.get`; registers the value with the run's redactor. */
  getSecret(name: string): Promise<string>;
  /** Backs `phase` / `Phase`; synchronous. Optional. */
  setPhase?(name: string, opts: PhaseOptions | undefined): void;
  /** Backs `workflows.run`; resolves to the child run id. Optional. */
  runWorkflow?(slug: string, input: unknown, opts: CallOptions | undefined): Promise<string>;
  /** Backs `artifacts.write`. Optional. */
  writeArtifact?(
    name: string,
    contentType: string,
    body: ArtifactBody,
    metadata: Record<string, unknown> | undefined,
  ): Promise<ArtifactRef>;
  /** Backs `humanInput`; resolves to the normalized answer. Optional. */
  humanInput?(opts: HumanInputOptions): Promise<HumanInputResult>;
}

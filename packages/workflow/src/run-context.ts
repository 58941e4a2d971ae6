/**
 * `runtime`: what a program can learn about the run it is part of. `runId`, `workflowId` and
 * `workspaceDir` come from the engine; `orgId`, `apiUrl`, `apiToken()` and `idToken()` belong to a
 * hosted control plane this engine does not have, and answer `UNSUPPORTED`.
 */
import { EngineError } from "./errors/index.ts";
import { currentRunInfo } from "./internal/state.ts";
import type { RunInfo } from "./internal/state.ts";

function installed(name: string): RunInfo {
  const info = currentRunInfo();
  if (info === null) {
    throw new EngineError(
      "UNSUPPORTED",
      `runtime.${name} is only known inside a run.`,
      "Engines install it before the program starts; in tests call installRunInfo() from the runtime door.",
    );
  }
  return info;
}

function hostedOnly(name: string): EngineError {
  return new EngineError(
    "UNSUPPORTED",
    `runtime.${name} is not supported by the installed engine (it needs a hosted control plane).`,
  );
}

/** The run this program executes in. */
export const runtime: {
  readonly runId: string;
  readonly workflowId: string;
  readonly workspaceDir: string;
  readonly orgId: string;
  readonly apiUrl: string;
  apiToken(): Promise<string>;
  idToken(audience: string): Promise<string>;
} = Object.freeze({
  get runId(): string {
    return installed("runId").runId;
  },
  get workflowId(): string {
    const id = installed("workflowId").workflowId;
    if (id === null) throw hostedOnly("workflowId");
    return id;
  },
  get workspaceDir(): string {
    return installed("workspaceDir").workspaceDir;
  },
  get orgId(): string {
    throw hostedOnly("orgId");
  },
  get apiUrl(): string {
    throw hostedOnly("apiUrl");
  },
  apiToken(): Promise<string> {
    return Promise.reject(hostedOnly("apiToken()"));
  },
  idToken(audience: string): Promise<string> {
    if (typeof audience !== "string" || audience === "") {
      return Promise.reject(
        new EngineError("VALIDATION", "runtime.idToken(audience) needs a non-empty audience."),
      );
    }
    return Promise.reject(hostedOnly("idToken()"));
  },
});

/**
 * The manifest fields the supervisor reads, as one typed view over the stored
 * canonical manifest. Keeps the supervisor independent of how the manifest type is spelled.
 */
import type { WorkflowRow } from "../ports.ts";

/** What the supervisor reads from a canonical manifest. */
export interface ManifestView {
  permissions?: { secrets?: readonly { name: string }[] };
  env?: Record<string, string>;
  budget?: {
    max_tokens?: number;
    max_usd?: number;
    max_duration_seconds?: number;
    deadline_seconds?: number;
  };
  workspace?: { persist?: boolean | readonly string[] };
  retry?: {
    attempts: number;
    backoff?: { initial_seconds: number; factor?: number; max_seconds?: number };
    retry_on?: readonly string[];
  };
}

/** The supervisor's view of a workflow's manifest. */
export function manifestOf(workflow: WorkflowRow): ManifestView {
  return workflow.manifest as unknown as ManifestView;
}

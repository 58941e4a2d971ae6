/**
 * Workflow versions: every deploy that changes a workflow's content (program, manifest, deploy
 * config, skills) is kept as an immutable, numbered version, and every run records the version
 * it was created on. Types only.
 */
import type { WorkflowManifest } from "../manifest.ts";
import type { JsonValue } from "../types.ts";

/** One deployed version of a workflow, without its content (what listings return). */
export interface WorkflowVersionSummary {
  /** ULID (for a workflow deployed before versions existed, its version 1 has the workflow's id). */
  id: string;
  workflowId: string;
  /** 1, 2, 3… per workflow, in deploy order; never reused. */
  number: number;
  /** SHA-256 (hex) of the version's content: program, manifest, deploy config and skills. */
  hash: string;
  /** Epoch ms of the deploy that created it. */
  deployedAt: number;
}

/** One deployed version of a workflow with its content, exactly as deployed. */
export interface WorkflowVersionRow extends WorkflowVersionSummary {
  manifest: WorkflowManifest;
  /** The bundled ESM program source. */
  program: string;
  /** Deploy config, `{}` by default. */
  config: Record<string, JsonValue>;
  /**
   * Skill name → markdown as deployed with this version; `null` for a version recorded before
   * versions existed (its skills are the workflow's skills directory).
   */
  skills: Record<string, string> | null;
}

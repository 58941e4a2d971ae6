/**
 * Which program a run executes: the workflow as the version the run was created on deployed it
 * (its program, manifest, deploy config and skills), so every pass — the first, a crash restart, a pass
 * after an engine restart — runs the same code even when the workflow was redeployed meanwhile.
 * A run without a recorded version (a store that keeps none) executes the workflow as it is.
 */
import type { SupervisorContext } from "./context.ts";
import type { RunErrorShape, RunRow, WorkflowRow } from "./ports.ts";
import type { VersionSkills } from "./skills.ts";

/** The workflow as the run's version deployed it, or the error that fails the run. */
export async function programOf(
  ctx: SupervisorContext,
  run: RunRow,
  workflow: WorkflowRow,
): Promise<{ workflow: WorkflowRow; skills: VersionSkills | null } | { error: RunErrorShape }> {
  if (run.version === null) return { workflow, skills: null };
  const version = await ctx.store.getWorkflowVersion(workflow.id, run.version);
  if (version === null) {
    return {
      error: {
        code: "INTERNAL",
        message: `Version ${String(run.version)} of workflow ${workflow.slug}, which run ${run.id} was created on, no longer exists.`,
      },
    };
  }
  return {
    workflow: {
      ...workflow,
      manifest: version.manifest,
      program: version.program,
      config: version.config,
    },
    skills: version.skills === null ? null : { versionId: version.id, skills: version.skills },
  };
}

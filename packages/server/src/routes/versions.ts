/**
 * Workflow versions in the API: `GET /api/workflows/:slug/versions` lists a workflow's versions
 * newest first (`{ number, hash, deployedAt, current }`; the first is the one new runs execute),
 * and a run-start body's optional `version` picks the version a run executes.
 */
import { validationFailed } from "../internal/http.ts";
import type { WorkflowVersionSummary } from "../ports.ts";

/** Versions (newest first) as API objects; the newest is `current`. */
export function projectVersions(
  versions: readonly WorkflowVersionSummary[],
): Record<string, unknown>[] {
  return versions.map((version, index) => ({
    number: version.number,
    hash: version.hash,
    deployedAt: version.deployedAt,
    current: index === 0,
  }));
}

/** The `version` of a run-start body: an integer ≥ 1, else a 400 naming it. */
export function runVersion(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw validationFailed("run-start body", [
      ["version", "expected a version number (an integer ≥ 1)"],
    ]);
  }
  return value;
}

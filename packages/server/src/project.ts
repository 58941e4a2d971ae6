/**
 * Row → API object projections. The only place that decides which stored fields reach clients:
 * programs, artifact paths and anything not listed here never leave the server.
 */
import type { CostLedger } from "./cost-ledger.ts";
import type { ArtifactRow, EngineApi, RunRow, WorkflowRow } from "./ports.ts";
import { cronSchedules } from "./schedules.ts";

/**
 * The Run object of the API (exact field list, `workflowSlug` added): the accounting
 * (`activeMs`, `retries`, `retryAt` while a retry waits) included, and `nodeId`: the cluster node
 * that holds (or last held) the run, `null` outside a cluster. The JSON API adds
 * `usdEstimated` (part of `usdMicros` was priced at the default rate of an unknown model); the
 * WebSocket feed's copies leave it out.
 */
export function projectRun(
  run: RunRow,
  workflowSlug: string | null,
  usdEstimated?: boolean,
): Record<string, unknown> {
  const projected: Record<string, unknown> = {
    id: run.id,
    workflowId: run.workflowId,
    workflowSlug,
    status: run.status,
    triggerKind: run.triggerKind,
    input: run.input ?? null,
    output: run.output ?? null,
    error: run.error === null ? null : projectError(run.error),
    parentRunId: run.parentRunId,
    idempotencyKey: run.idempotencyKey,
    restarts: run.restarts,
    tokensIn: run.tokensIn,
    tokensOut: run.tokensOut,
    usdMicros: run.usdMicros,
    activeMs: run.activeMs,
    retries: run.retries,
    retryAt: run.retryAt,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    version: run.version,
    nodeId: run.nodeId ?? null,
  };
  if (usdEstimated !== undefined) projected["usdEstimated"] = usdEstimated;
  return projected;
}

/** The slug of a workflow id, `null` when it is gone. */
export async function slugOf(engine: EngineApi, workflowId: string): Promise<string | null> {
  return (await engine.getWorkflowById(workflowId))?.slug ?? null;
}

/**
 * Runs as API objects: one workflow read per distinct workflow, not per run; with a `ledger`,
 * each carries `usdEstimated`.
 */
export async function projectRuns(
  engine: EngineApi,
  runs: readonly RunRow[],
  ledger?: CostLedger,
): Promise<Record<string, unknown>[]> {
  const ids = [...new Set(runs.map((run) => run.workflowId))];
  const slugs = new Map(
    await Promise.all(ids.map(async (id) => [id, await slugOf(engine, id)] as const)),
  );
  const out: Record<string, unknown>[] = [];
  for (const run of runs) {
    const estimated = ledger === undefined ? undefined : await ledger.estimated(run);
    out.push(projectRun(run, slugs.get(run.workflowId) ?? null, estimated));
  }
  return out;
}

/** Workflow summary (list item); `lastRun` is the workflow's newest run, if any. */
export function projectWorkflowSummary(
  wf: WorkflowRow,
  lastRun: RunRow | undefined,
): Record<string, unknown> {
  return {
    id: wf.id,
    slug: wf.slug,
    name: wf.slug,
    title: wf.title ?? wf.manifest.title ?? null,
    description: wf.manifest.description ?? null,
    triggers: wf.manifest.triggers ?? [],
    createdAt: wf.createdAt,
    updatedAt: wf.updatedAt,
    lastRun:
      lastRun === undefined
        ? null
        : { id: lastRun.id, status: lastRun.status, createdAt: lastRun.createdAt },
  };
}

/** The summary of a workflow, reading its newest run. */
export async function workflowSummary(
  engine: EngineApi,
  wf: WorkflowRow,
): Promise<Record<string, unknown>> {
  const [last] = await engine.listRuns({ workflowId: wf.id, limit: 1 });
  return projectWorkflowSummary(wf, last);
}

/**
 * Workflow detail = summary + manifest + config + the cron triggers with their next fire after
 * `now` (never the program: its source has a route of its own).
 */
export async function workflowDetail(
  engine: EngineApi,
  wf: WorkflowRow,
  now: number = Date.now(),
): Promise<Record<string, unknown>> {
  return {
    ...(await workflowSummary(engine, wf)),
    manifest: wf.manifest,
    config: wf.config,
    schedules: cronSchedules(engine, wf.manifest, now),
  };
}

/** Artifact object: no on-disk path. */
export function projectArtifact(a: ArtifactRow): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    metadata: a.metadata,
    createdAt: a.createdAt,
    url: `/api/runs/${a.runId}/artifacts/${encodeURIComponent(a.name)}`,
  };
}

/** One entry per name (the latest write wins), ordered by that write's creation time. */
export function latestArtifacts(rows: ArtifactRow[]): ArtifactRow[] {
  const byName = new Map<string, ArtifactRow>();
  for (const row of rows) {
    const prev = byName.get(row.name);
    if (prev === undefined || row.createdAt >= prev.createdAt) byName.set(row.name, row);
  }
  return [...byName.values()].sort((a, b) => a.createdAt - b.createdAt);
}

/** `{ code, message }`, plus the class name and source-mapped stack of a program's own error. */
function projectError(error: NonNullable<RunRow["error"]>): Record<string, unknown> {
  const projected: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.name !== undefined) projected["name"] = error.name;
  if (error.stack !== undefined) projected["stack"] = error.stack;
  return projected;
}

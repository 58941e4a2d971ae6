/**
 * `@promenade/workflow/records`: the shapes every engine package shares — the persisted rows
 * (workflows, runs, events, artifacts, cron fires, human-input requests), the run-status vocabulary with its terminal
 * set and the reasons a pass starts, the query shapes the ports take, and the maybe-synchronous helpers that consume
 * `Awaitable` port results. Types, constants and small pure functions only: importing it loads
 * nothing (no zod, no SQL driver), so ports in any package can speak these words without
 * depending on the store that implements them.
 */
import type { Channel, RunEvent } from "../events.ts";
import type { WorkflowManifest } from "../manifest.ts";
import type { JsonValue } from "../types.ts";
import type { RunStatus } from "./statuses.ts";

export {
  ACTIVE_STATUSES,
  isTerminal,
  PASS_REASONS,
  RUN_STATUSES,
  TERMINAL_STATUSES,
} from "./statuses.ts";
export type { PassReason, RunStatus, TerminalStatus } from "./statuses.ts";

export {
  HUMAN_INPUT_STATUSES,
  parseHumanInputSpec,
  parseHumanInputTimeout,
  validateHumanInputAnswer,
} from "./human-input.ts";
export type {
  HumanInputRequestRow,
  HumanInputStatus,
  ListInputRequestsFilter,
} from "./human-input.ts";

export type { WorkflowVersionRow, WorkflowVersionSummary } from "./versions.ts";

export { always, andThen, attempt, each, isPromiseLike, repeat } from "./awaitable.ts";
export type { Awaitable } from "./awaitable.ts";

/** How a run was started. `workflows.call`/`run` children use `"manual"` plus a `parentRunId`. */
export const TRIGGER_KINDS = ["cron", "manual", "webhook"] as const;
/** How a run was started. */
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** A run's error as stored on the row: `{ code, message, hint?, name?, stack? }`. */
export interface RunErrorShape {
  code: string;
  message: string;
  hint?: string;
  /** The class name of the error the program threw (`TypeError`, `QuotaError`…). */
  name?: string;
  /**
   * Its stack, frames mapped to the program's source file and line (`greet.ts:12:9` for a
   * TypeScript program); secret values redacted.
   */
  stack?: string;
}

/** A deployed workflow. `id` and `createdAt` are stable across redeploys of the same slug. */
export interface WorkflowRow {
  /** ULID. */
  id: string;
  /** Canonical identity (manifest `slug`). */
  slug: string;
  /** Same value as `slug`, kept for Boardwalk-style embedders that read `.name`. */
  name: string;
  /** Manifest `title`, or `null`. */
  title: string | null;
  manifest: WorkflowManifest;
  /** The bundled ESM program source. */
  program: string;
  /** Deploy config, `{}` by default. */
  config: Record<string, JsonValue>;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the latest deploy. */
  updatedAt: number;
  /**
   * Epoch ms at which the workflow was undeployed, or `null` while it is deployed. An undeployed
   * workflow keeps its runs and versions; it is not listed, starts no run and fires no cron.
   */
  undeployedAt: number | null;
}

/** One run of a workflow. */
export interface RunRow {
  /** ULID. */
  id: string;
  workflowId: string;
  status: RunStatus;
  triggerKind: TriggerKind;
  /** The run input; `null` when none was supplied. */
  input: unknown;
  /** The declared output; `null` when never declared. */
  output: JsonValue | null;
  /** Set on `failed` only. */
  error: RunErrorShape | null;
  /** Set for `workflows.call`/`run` children. */
  parentRunId: string | null;
  idempotencyKey: string | null;
  /** Crashed passes counted; engine restarts do not count. */
  restarts: number;
  /** Cumulative input tokens over all passes. */
  tokensIn: number;
  /** Cumulative output tokens over all passes. */
  tokensOut: number;
  /** Cumulative approximate cost in integer micro-USD. */
  usdMicros: number;
  /**
   * Milliseconds the run's processes were alive, summed over its passes (added after each pass);
   * time between passes and engine downtime are not counted. What `max_duration_seconds` limits.
   */
  activeMs: number;
  /** Attempts the retry policy started again after the program failed; 0 without a policy. */
  retries: number;
  /** Epoch ms the next attempt is due while the run waits out a retry backoff, else `null`. */
  retryAt: number | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the start of the first pass; never reset once set. */
  startedAt: number | null;
  /** Epoch ms, set with the terminal status. */
  endedAt: number | null;
  /**
   * The workflow version the run was created on (every pass executes it); `null` only from
   * stores that keep no versions.
   */
  versionId: string | null;
  /** That version's number; `null` with `versionId`. */
  version: number | null;
  /**
   * In a cluster, the node that last claimed the run (it executes it while its lease lasts);
   * `null` (or absent) outside a cluster.
   */
  nodeId?: string | null;
}

/** One persisted run event; the cursor travels beside the event, never inside it. */
export interface EventRow {
  runId: string;
  cursor: number;
  event: RunEvent;
}

/**
 * An event as the feed publishes it after its commit: the row plus the run's workflow, so a
 * listener (the WebSocket channel, the dispatch gate) never reads the run back to route it.
 */
export interface PublishedEvent extends EventRow {
  workflowId: string;
  workflowSlug: string;
}

/** Receives committed events, per run in increasing cursor order. */
export type EventListener = (row: PublishedEvent) => void;

/** A file a run wrote through `artifacts.write`. */
export interface ArtifactRow {
  /** ULID. */
  id: string;
  runId: string;
  /** Plain file name. */
  name: string;
  contentType: string;
  /** Absolute path of the bytes on disk (the bytes are never stored in the database). */
  path: string;
  /** Bytes. */
  size: number;
  metadata: Record<string, unknown> | null;
  /** Epoch ms. */
  createdAt: number;
}

/** One recorded cron fire: a trigger's scheduled instant and the run it started. */
export interface CronFireRow {
  workflowId: string;
  /** Zero-based index in `manifest.triggers`. */
  triggerIndex: number;
  /** The scheduled instant (epoch ms), not when it ran. */
  fireTime: number;
  runId: string;
}

/** Cumulative usage of a run. */
export interface RunUsage {
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
}

/** Filter and paging for run listings. Every field is optional. */
export interface ListRunsFilter {
  workflowId?: string;
  /** Only runs in one of these statuses; `[]` matches nothing. */
  statuses?: readonly RunStatus[];
  parentRunId?: string;
  /** `"newest"` (default): newest first; `"oldest"` reverses it. */
  order?: "newest" | "oldest";
  /** Page size (integer ≥ 0); all matching rows when absent. */
  limit?: number;
  /** Rows to skip (integer ≥ 0); cannot be combined with `beforeRunId`. */
  offset?: number;
  /** Keyset paging: only rows strictly after this run in the chosen order. */
  beforeRunId?: string;
  /** Only runs created at or after this instant (epoch ms, integer ≥ 0). */
  createdSince?: number;
  /** Only runs created strictly before this instant (epoch ms, integer ≥ 0). */
  createdBefore?: number;
}

/** Paging and filtering for event listings. */
export interface ListEventsOptions {
  /** Only events with `cursor > afterCursor` (integer ≥ 0, default 0). */
  afterCursor?: number;
  /** Page size (integer ≥ 0); all matching events when absent. */
  limit?: number;
  /** Only events of these channels; all channels when absent. */
  channels?: readonly Channel[];
}

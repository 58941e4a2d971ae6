/**
 * The JSON objects the server's API and WebSocket channel return, as the CLI reads them. Only the
 * fields the CLI uses are typed; everything else passes through `--json` untouched.
 */
import type { RunEvent, Trigger } from "@promenade/workflow";
import type { RunStatus, TriggerKind } from "@promenade/workflow/records";

/** A run as the API projects it. */
export interface ApiRun {
  id: string;
  workflowId: string;
  workflowSlug: string | null;
  status: RunStatus;
  triggerKind: TriggerKind;
  input: unknown;
  output: unknown;
  /** `name` and `stack` (frames at the program's source lines) for the program's own errors. */
  error: { code: string; message: string; hint?: string; name?: string; stack?: string } | null;
  parentRunId: string | null;
  restarts: number;
  tokensIn: number;
  tokensOut: number;
  usdMicros: number;
  /** Milliseconds the run's processes were alive, summed over its passes. */
  activeMs: number;
  /** Attempts the workflow's retry policy started again after the program failed. */
  retries: number;
  /** Epoch ms the next attempt is due while a retry waits out its backoff, else `null`. */
  retryAt: number | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  startedAt: number | null;
  /** Epoch ms. */
  endedAt: number | null;
}

/** A workflow list item. */
export interface ApiWorkflow {
  id: string;
  slug: string;
  title: string | null;
  description: string | null;
  triggers: Trigger[];
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  updatedAt: number;
  lastRun: { id: string; status: RunStatus; createdAt: number } | null;
}

/** One stored event of a run. */
export interface ApiEventRow {
  runId: string;
  cursor: number;
  event: RunEvent;
}

/** One human-input request (a gate of a run waiting for, or given, a person's answer). */
export interface ApiInputRequest {
  id: string;
  runId: string;
  seq: number;
  /** The gate's name, unique within its run. */
  key: string;
  prompt: string;
  /** The answer form, e.g. `{ kind: "choice", options: [...] }`. */
  inputSpec: unknown;
  assignees: string[] | null;
  status: "pending" | "resolved" | "expired" | "cancelled";
  /** The normalized answer once resolved. */
  response: unknown;
  respondedBy: string | null;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms, when the gate has a timeout. */
  expiresAt: number | null;
  /** Epoch ms. */
  respondedAt: number | null;
}

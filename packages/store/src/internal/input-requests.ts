/**
 * Human-input requests, backend-neutral: argument checks of the request methods (each throws
 * `VALIDATION` naming the argument before anything is written), the two events the methods
 * write, and the read validation of a stored row. Both the SQLite and the PostgreSQL tables use
 * these, so the two backends accept, write and read exactly the same.
 */
import { z } from "zod";
import { EngineError } from "@promenade/workflow/errors";
import {
  HUMAN_INPUT_STATUSES,
  type HumanInputRequestRow,
  type HumanInputStatus,
  type ListInputRequestsFilter,
} from "@promenade/workflow/records";
import type {
  CreateInputRequestArgs,
  EventAppend,
  InputRequestSettlement,
  StatusChange,
} from "../types.ts";
import { describe, requireInteger, requireString, validation } from "./args.ts";
import { toJsonText } from "./json.ts";
import { describeIssues } from "./rows.ts";
import { TURN_CURSOR_STRIDE, type JsonValue, type RunEvent } from "./sdk.ts";

/** Longest gate key accepted (tool-call ids and program keys are far shorter). */
const MAX_KEY_LENGTH = 1024;
const STATUS_SET: ReadonlySet<string> = new Set(HUMAN_INPUT_STATUSES);

/** A checked {@link CreateInputRequestArgs}: JSON columns serialized. */
export interface CheckedRequest {
  key: string;
  prompt: string;
  inputSpec: string;
  assignees: string | null;
  timeoutMs: number | null;
  pending: readonly EventAppend[];
  stamp: { cursor: number; seq: number } | undefined;
}

/** A checked {@link InputRequestSettlement}. */
export interface CheckedSettlement {
  status: "resolved" | "expired";
  response: string | null;
  respondedBy: string | null;
  pending: readonly EventAppend[];
  stamp: { cursor: number; seq: number } | undefined;
}

/** A gate key: a non-empty string of at most 1024 characters. */
export function requireInputKey(value: unknown, what: string): string {
  const key = requireString(value, what);
  if (key.length > MAX_KEY_LENGTH) {
    throw validation(
      `${what} is ${String(key.length)} characters, over the ${String(MAX_KEY_LENGTH)} limit.`,
    );
  }
  return key;
}

function readStamp(value: unknown, method: string): { cursor: number; seq: number } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null)
    throw validation(`${method}: stamp must be { cursor, seq }.`);
  const stamp = value as { cursor?: unknown; seq?: unknown };
  return {
    cursor: requireInteger(stamp.cursor, `${method}: stamp.cursor`, 1),
    seq: requireInteger(stamp.seq, `${method}: stamp.seq`, 1),
  };
}

function readPending(value: unknown, method: string): readonly EventAppend[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw validation(`${method}: pending must be an array of { cursor, event }.`);
  return value as EventAppend[];
}

/** Checks the arguments of `createInputRequest`. */
export function readCreateInputRequest(
  runId: unknown,
  args: CreateInputRequestArgs,
  maxBytes: number,
): CheckedRequest {
  const method = "createInputRequest";
  requireString(runId, `${method}: runId`);
  if (typeof args !== "object" || args === null)
    throw validation(`${method}(runId, args): args must be an object.`);
  const key = requireInputKey(args.key, `${method}: key`);
  if (typeof args.prompt !== "string")
    throw validation(`${method}: prompt must be a string, got ${describe(args.prompt)}.`);
  if (args.inputSpec === undefined) throw validation(`${method}: inputSpec is required.`);
  const inputSpec = toJsonText(args.inputSpec, `${method}: inputSpec`, maxBytes);
  let assignees: string | null = null;
  if (args.assignees !== undefined && args.assignees !== null) {
    const list: unknown = args.assignees;
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
      throw validation(`${method}: assignees must be an array of strings or null.`);
    }
    assignees = toJsonText(list, `${method}: assignees`, maxBytes);
  }
  const timeoutMs =
    args.timeoutMs === undefined || args.timeoutMs === null
      ? null
      : requireInteger(args.timeoutMs, `${method}: timeoutMs`, 0);
  // The prompt travels in the event too.
  toJsonText(args.prompt, `${method}: prompt`, maxBytes);
  return {
    key,
    prompt: args.prompt,
    inputSpec,
    assignees,
    timeoutMs,
    pending: readPending(args.pending, method),
    stamp: readStamp(args.stamp, method),
  };
}

/** Checks the arguments of `settleInputRequest`. */
export function readSettlement(
  runId: unknown,
  key: unknown,
  settlement: InputRequestSettlement,
  maxBytes: number,
): CheckedSettlement {
  const method = "settleInputRequest";
  requireString(runId, `${method}: runId`);
  requireInputKey(key, `${method}: key`);
  if (typeof settlement !== "object" || settlement === null)
    throw validation(`${method}(runId, key, settlement): settlement must be an object.`);
  const status = settlement.status;
  if (status !== "resolved" && status !== "expired") {
    throw validation(`${method}: status must be "resolved" or "expired", got ${describe(status)}.`);
  }
  let response: string | null = null;
  if (settlement.response !== undefined && settlement.response !== null) {
    response = toJsonText(settlement.response, `${method}: response`, maxBytes);
  } else if (status === "resolved") {
    throw validation(`${method}: a resolved request needs a response.`);
  }
  let respondedBy: string | null = null;
  if (settlement.respondedBy !== undefined && settlement.respondedBy !== null) {
    respondedBy = requireString(settlement.respondedBy, `${method}: respondedBy`);
  }
  return {
    status,
    response,
    respondedBy,
    pending: readPending(settlement.pending, method),
    stamp: readStamp(settlement.stamp, method),
  };
}

/** A checked request listing: `statuses` deduplicated, `undefined` meaning every status. */
export interface CheckedInputFilter {
  runId: string | undefined;
  statuses: HumanInputStatus[] | undefined;
}

/** Checks the filter of `listInputRequests`. */
export function readInputFilter(filter: ListInputRequestsFilter | undefined): CheckedInputFilter {
  const f = filter ?? {};
  if (typeof f !== "object")
    throw validation("listInputRequests(filter): filter must be an object.");
  const runId =
    f.runId === undefined ? undefined : requireString(f.runId, "listInputRequests: runId");
  let statuses: HumanInputStatus[] | undefined;
  if (f.statuses !== undefined) {
    if (!Array.isArray(f.statuses))
      throw validation("listInputRequests: statuses must be an array.");
    statuses = [];
    for (const [index, status] of (f.statuses as readonly unknown[]).entries()) {
      if (typeof status !== "string" || !STATUS_SET.has(status)) {
        throw validation(
          `listInputRequests: statuses[${String(index)}] must be a request status, got ${describe(status)}.`,
          `Valid statuses: ${HUMAN_INPUT_STATUSES.join(", ")}.`,
        );
      }
      if (!statuses.includes(status as HumanInputStatus)) statuses.push(status as HumanInputStatus);
    }
  }
  return { runId, statuses };
}

/** The stamp of a store-stamped event: seq 1 of a fresh block after the run's highest cursor. */
export function freshStamp(maxCursor: number): { cursor: number; seq: number } {
  const block = Math.floor(maxCursor / TURN_CURSOR_STRIDE) + 1;
  return { cursor: block * TURN_CURSOR_STRIDE + 1, seq: 1 };
}

/** The `human_input_requested` event of a new request. */
export function requestedEvent(
  row: { id: string; runId: string; key: string; prompt: string },
  stamp: { seq: number },
  t: number,
): RunEvent {
  return {
    kind: "human_input_requested",
    requestId: row.id,
    key: row.key,
    prompt: row.prompt,
    runId: row.runId,
    turnId: row.runId,
    seq: stamp.seq,
    t,
  };
}

/** The `human_input_resolved` event of an answered (or timed-out) request. */
export function resolvedEvent(
  row: { id: string; runId: string; key: string },
  stamp: { seq: number },
  t: number,
): RunEvent {
  return {
    kind: "human_input_resolved",
    requestId: row.id,
    key: row.key,
    runId: row.runId,
    turnId: row.runId,
    seq: stamp.seq,
    t,
  };
}

/** True when a status change ends the run: its pending requests are then cancelled with it. */
export function endsRun(change: StatusChange): boolean {
  return change.to === "completed" || change.to === "failed" || change.to === "cancelled";
}

/** A `human_input_requests` row as both backends read it (JSON columns as text). */
export interface RawInputRequest {
  id: string;
  runId: string;
  seq: number;
  key: string;
  prompt: string;
  inputSpec: string;
  assignees: string | null;
  status: string;
  response: string | null;
  respondedBy: string | null;
  createdAt: number;
  expiresAt: number | null;
  respondedAt: number | null;
}

const assigneesSchema = z.array(z.string());
const statusSchema = z.enum(HUMAN_INPUT_STATUSES);

function corrupt(column: string, problem: string): EngineError {
  return new EngineError(
    "INTERNAL",
    `corrupt row in human_input_requests.${column}: ${problem}`,
    "The database was modified outside Promenade or damaged; restore the data dir from a backup.",
  );
}

function parseColumn(column: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw corrupt(column, "not valid JSON");
  }
}

/** A stored row → {@link HumanInputRequestRow}. */
export function toInputRequestRow(raw: RawInputRequest): HumanInputRequestRow {
  const status = statusSchema.safeParse(raw.status);
  if (!status.success) throw corrupt("status", describeIssues(status.error));
  let assignees: string[] | null = null;
  if (raw.assignees !== null) {
    const parsed = assigneesSchema.safeParse(parseColumn("assignees", raw.assignees));
    if (!parsed.success) throw corrupt("assignees", describeIssues(parsed.error));
    assignees = parsed.data;
  }
  return {
    id: raw.id,
    runId: raw.runId,
    seq: raw.seq,
    key: raw.key,
    prompt: raw.prompt,
    inputSpec: parseColumn("input_spec", raw.inputSpec) as JsonValue,
    assignees,
    status: status.data,
    response: raw.response === null ? null : (parseColumn("response", raw.response) as JsonValue),
    respondedBy: raw.respondedBy,
    createdAt: raw.createdAt,
    expiresAt: raw.expiresAt,
    respondedAt: raw.respondedAt,
  };
}

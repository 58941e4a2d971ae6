/**
 * Argument checks of the PostgreSQL store: every public method's arguments are validated here
 * into plain values (JSON already serialized and size-checked, statuses and cursors checked)
 * before any SQL runs, so a rejected call writes nothing. The rules and messages are the SQLite
 * store's: one contract, two backends. Pure functions, no I/O.
 */
import { isAbsolute } from "node:path";
import { EngineError } from "@promenade/workflow/errors";
import {
  describe,
  requireInteger,
  requirePassReason,
  requireStatus,
  requireString,
  sizedJson,
  validation,
} from "../internal/args.ts";
import { checkSize, toJsonText } from "../internal/json.ts";
import { readEventError } from "../internal/event-error.ts";
import { readVersionNumber, skillsText } from "../internal/versions.ts";
import { describeIssues, runErrorSchema } from "../internal/rows.ts";
import {
  channelOf,
  CHANNELS,
  manifestSchema,
  runEventSchema,
  TRIGGER_KINDS,
  type Channel,
  type PassReason,
  type RunEvent,
  type RunStatus,
} from "../internal/sdk.ts";
import type {
  CreateArtifactArgs,
  CreateRunArgs,
  EventAppend,
  FireCronArgs,
  ListEventsOptions,
  ListRunsFilter,
  RunUsageDelta,
  StatusChange,
  TriggerKind,
  UpsertWorkflowArgs,
} from "../types.ts";

/** Size limits of one store. */
export interface Limits {
  maxValueBytes: number;
  maxProgramBytes: number;
}

const MAX_KEY_LENGTH = 1024;
const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

// Event kinds with free-form (`unknown`) fields the event schema cannot vouch for; every other
// kind is strings, finite integers and enums once parsed, so it skips the JSON-tree walk.
const FREE_FORM_KINDS: ReadonlySet<string> = new Set([
  "output",
  "tool_call_input_complete",
  "tool_call_result",
]);
const TRIGGER_SET: ReadonlySet<string> = new Set(TRIGGER_KINDS);
const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);

/** A lookup key: any string (unknown ones simply find nothing). */
export function requireKey(value: unknown, call: string, name: string): string {
  if (typeof value !== "string")
    throw validation(`${call}: ${name} must be a string, got ${describe(value)}.`);
  return value;
}

/** The validated columns of an upsert. */
export interface WorkflowWrite {
  slug: string;
  manifest: string;
  program: string;
  config: string;
  /** The skills' JSON text, keys sorted. */
  skills: string;
}

export function readUpsertWorkflow(args: UpsertWorkflowArgs, limits: Limits): WorkflowWrite {
  if (typeof args !== "object" || args === null) {
    throw validation("upsertWorkflow(args): args must be an object.");
  }
  const slug = requireString(args.slug, "upsertWorkflow: slug");
  const parsed = manifestSchema.safeParse(args.manifest);
  if (!parsed.success) {
    throw validation(
      `upsertWorkflow: manifest of "${slug}" is invalid: ${describeIssues(parsed.error)}.`,
      "Deploy a manifest produced by the SDK's validateMeta/extractManifest.",
    );
  }
  if (parsed.data.slug !== slug) {
    throw validation(
      `upsertWorkflow: slug "${slug}" does not match manifest.slug "${parsed.data.slug}".`,
    );
  }
  const manifest = toJsonText(parsed.data, `manifest of "${slug}"`, limits.maxValueBytes);
  if (typeof args.program !== "string") {
    throw validation(
      `upsertWorkflow: program of "${slug}" must be a string, got ${describe(args.program)}.`,
    );
  }
  checkSize(args.program, `program of "${slug}"`, limits.maxProgramBytes);
  const configValue = args.config ?? {};
  if (typeof configValue !== "object" || configValue === null || Array.isArray(configValue)) {
    throw validation(
      `upsertWorkflow: config of "${slug}" must be a JSON object, got ${describe(configValue)}.`,
    );
  }
  const config = toJsonText(configValue, `config of "${slug}"`, limits.maxValueBytes);
  const skills = skillsText(args.skills, slug, limits.maxValueBytes);
  return { slug, manifest, program: args.program, config, skills };
}

/** The validated columns of a new run. */
export interface RunWrite {
  workflowId: string;
  triggerKind: TriggerKind;
  input: string | null;
  parentRunId: string | null;
  key: string | null;
  /** The requested version number, or `null` for the workflow's current version. */
  version: number | null;
}

export function readCreateRun(args: CreateRunArgs, limits: Limits): RunWrite {
  if (typeof args !== "object" || args === null)
    throw validation("createRun(args): args must be an object.");
  const workflowId = requireString(args.workflowId, "createRun: workflowId");
  if (typeof args.triggerKind !== "string" || !TRIGGER_SET.has(args.triggerKind)) {
    throw validation(
      `createRun: triggerKind must be one of ${TRIGGER_KINDS.join(", ")}, got ${describe(args.triggerKind)}.`,
    );
  }
  const input =
    args.input === undefined
      ? null
      : toJsonText(args.input, "createRun: input", limits.maxValueBytes);
  const parentRunId =
    args.parentRunId === undefined
      ? null
      : requireString(args.parentRunId, "createRun: parentRunId");
  let key: string | null = null;
  if (args.idempotencyKey !== undefined) {
    key = requireString(args.idempotencyKey, "createRun: idempotencyKey");
    if (key.length > MAX_KEY_LENGTH) {
      throw validation(
        `createRun: idempotencyKey is ${String(key.length)} characters, over the ${String(MAX_KEY_LENGTH)} limit.`,
        "Hash long keys (e.g. SHA-256 hex) before passing them.",
      );
    }
  }
  const version = readVersionNumber(args.version, "createRun: version");
  return { workflowId, triggerKind: args.triggerKind, input, parentRunId, key, version };
}

/** The validated instant of a cron fire. */
export interface CronWrite {
  workflowId: string;
  triggerIndex: number;
  fireTime: number;
  input: string | null;
}

export function readFireCron(args: FireCronArgs, limits: Limits): CronWrite {
  if (typeof args !== "object" || args === null)
    throw validation("fireCron(args): args must be an object.");
  return {
    workflowId: requireString(args.workflowId, "fireCron: workflowId"),
    triggerIndex: requireInteger(args.triggerIndex, "fireCron: triggerIndex", 0),
    fireTime: requireInteger(args.fireTime, "fireCron: fireTime", 0),
    input:
      args.input === undefined
        ? null
        : toJsonText(args.input, "fireCron: input", limits.maxValueBytes),
  };
}

/** One validated event ready to insert. */
export interface PreparedEvent {
  cursor: number;
  event: RunEvent;
  channel: Channel;
  text: string;
}

/**
 * Validates a batch of events of `runId` into their JSON text, in cursor order. A cursor twice
 * in the batch ⇒ `CONFLICT`; anything malformed ⇒ `VALIDATION`.
 */
export function prepareEvents(
  method: string,
  runId: string,
  rows: readonly EventAppend[],
  what: string,
  limits: Limits,
): PreparedEvent[] {
  const batch: unknown = rows;
  if (!Array.isArray(batch))
    throw validation(`${method}: ${what} must be an array of { cursor, event }.`);
  const prepared: PreparedEvent[] = [];
  const seen = new Set<number>();
  let sorted = true;
  for (const [index, row] of rows.entries()) {
    const where = `${method}(${runId}): ${what}[${String(index)}]`;
    if (typeof row !== "object" || row === null)
      throw validation(`${where} must be { cursor, event }.`);
    const cursor = requireInteger(row.cursor, `${where}.cursor`, 1);
    if (seen.has(cursor)) {
      throw new EngineError(
        "CONFLICT",
        `${where}: cursor ${String(cursor)} appears twice in the batch; nothing was written.`,
      );
    }
    seen.add(cursor);
    const parsed = runEventSchema.safeParse(row.event);
    if (!parsed.success) {
      throw validation(`${where}.event is not a valid run event: ${describeIssues(parsed.error)}.`);
    }
    const event = parsed.data;
    if (event.runId !== runId) {
      throw validation(`${where}.event.runId is "${event.runId}", not the run it is appended to.`);
    }
    const last = prepared[prepared.length - 1];
    if (last !== undefined && last.cursor > cursor) sorted = false;
    prepared.push({
      cursor,
      event,
      channel: channelOf(event),
      text: FREE_FORM_KINDS.has(event.kind)
        ? toJsonText(event, `${where}.event`, limits.maxValueBytes)
        : sizedJson(event, `${where}.event`, limits.maxValueBytes),
    });
  }
  // Written and published in cursor order, whatever order the caller listed them in.
  if (!sorted) prepared.sort((a, b) => a.cursor - b.cursor);
  return prepared;
}

/** The `run_status` event of a transition, built from validated values. */
export function statusEvent(
  runId: string,
  status: RunStatus,
  error: { code: string; message: string } | undefined,
  seq: number,
  t: number,
  reason?: PassReason,
): RunEvent {
  const body: Record<string, unknown> = { kind: "run_status", status };
  if (error !== undefined) body.error = { code: error.code, message: error.message };
  if (reason !== undefined) body.reason = reason;
  return { ...body, runId, turnId: runId, seq, t } as RunEvent;
}

/** A validated status transition. */
export interface StatusWrite {
  to: RunStatus;
  expect: RunStatus[];
  output: string | undefined;
  error: { code: string; message: string } | undefined;
  errorText: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  pending: PreparedEvent[];
  stamp: { cursor: number; seq: number } | undefined;
  reason: PassReason | undefined;
  eventError: { code: string; message: string } | undefined;
}

export function readStatusChange(runId: string, change: StatusChange, limits: Limits): StatusWrite {
  requireString(runId, "commitStatus: runId");
  if (typeof change !== "object" || change === null)
    throw validation("commitStatus(runId, change): change must be an object.");
  if (!Array.isArray(change.expect))
    throw validation("commitStatus: change.expect must be an array of statuses.");
  const to = requireStatus(change.to, "commitStatus: status");
  const expect = change.expect.map((s, i) =>
    requireStatus(s, `commitStatus: expect[${String(i)}]`),
  );
  const output =
    change.output === undefined
      ? undefined
      : toJsonText(change.output, `commitStatus(${runId}): output`, limits.maxValueBytes);
  let error: StatusWrite["error"];
  let errorText: string | undefined;
  if (change.error !== undefined) {
    const parsed = runErrorSchema.safeParse(change.error);
    if (!parsed.success) {
      throw validation(
        `commitStatus(${runId}): error must be { code, message, hint? }: ${describeIssues(parsed.error)}.`,
      );
    }
    error = parsed.data;
    errorText = toJsonText(parsed.data, `commitStatus(${runId}): error`, limits.maxValueBytes);
  }
  const startedAt =
    change.startedAt === undefined
      ? undefined
      : requireInteger(change.startedAt, "commitStatus: startedAt", 0);
  const endedAt =
    change.endedAt === undefined
      ? undefined
      : requireInteger(change.endedAt, "commitStatus: endedAt", 0);
  const pending =
    change.pending === undefined
      ? []
      : prepareEvents("commitStatus", runId, change.pending, "change.pending", limits);
  let stamp: StatusWrite["stamp"];
  if (change.stamp !== undefined) {
    if (typeof change.stamp !== "object" || change.stamp === null)
      throw validation("commitStatus: change.stamp must be { cursor, seq }.");
    stamp = {
      cursor: requireInteger(change.stamp.cursor, "commitStatus: stamp.cursor", 1),
      seq: requireInteger(change.stamp.seq, "commitStatus: stamp.seq", 1),
    };
  }
  const reason =
    change.reason === undefined
      ? undefined
      : requirePassReason(change.reason, "commitStatus: reason");
  const eventError = readEventError(runId, change.eventError);
  return {
    to,
    expect,
    output,
    error,
    errorText,
    startedAt,
    endedAt,
    pending,
    stamp,
    reason,
    eventError,
  };
}

/** The validated increments of `addRunUsage`. */
export function readUsage(id: string, usage: RunUsageDelta): Required<RunUsageDelta> {
  requireString(id, "addRunUsage: id");
  if (typeof usage !== "object" || usage === null)
    throw validation("addRunUsage: usage must be an object.");
  const amount = (value: number | undefined, name: string): number =>
    value === undefined ? 0 : requireInteger(value, `addRunUsage(${id}): ${name}`, 0);
  return {
    tokensIn: amount(usage.tokensIn, "tokensIn"),
    tokensOut: amount(usage.tokensOut, "tokensOut"),
    usdMicros: amount(usage.usdMicros, "usdMicros"),
  };
}

/** A validated run listing; `statuses: []` means the answer is empty. */
export interface RunQuery {
  newest: boolean;
  limit: number | undefined;
  offset: number;
  statuses: RunStatus[] | undefined;
  workflowId: string | undefined;
  parentRunId: string | undefined;
  beforeRunId: string | undefined;
  createdSince: number | undefined;
  createdBefore: number | undefined;
}

export function readListRuns(filter: ListRunsFilter): RunQuery {
  if (typeof filter !== "object" || filter === null)
    throw validation("listRuns(filter): filter must be an object.");
  const order = filter.order ?? "newest";
  if (order !== "newest" && order !== "oldest") {
    throw validation(`listRuns: order must be "newest" or "oldest", got ${describe(order)}.`);
  }
  const limit =
    filter.limit === undefined ? undefined : requireInteger(filter.limit, "listRuns: limit", 0);
  const offset =
    filter.offset === undefined ? 0 : requireInteger(filter.offset, "listRuns: offset", 0);
  if (filter.beforeRunId !== undefined && filter.offset !== undefined) {
    throw validation(
      "listRuns: beforeRunId and offset cannot be combined.",
      "Page with beforeRunId (keyset) or with offset, not both.",
    );
  }
  let statuses: RunStatus[] | undefined;
  if (filter.statuses !== undefined) {
    if (!Array.isArray(filter.statuses)) throw validation("listRuns: statuses must be an array.");
    statuses = [
      ...new Set(
        filter.statuses.map((s, i) => requireStatus(s, `listRuns: statuses[${String(i)}]`)),
      ),
    ];
  }
  return {
    newest: order === "newest",
    limit,
    offset,
    statuses,
    workflowId:
      filter.workflowId === undefined
        ? undefined
        : requireString(filter.workflowId, "listRuns: workflowId"),
    parentRunId:
      filter.parentRunId === undefined
        ? undefined
        : requireString(filter.parentRunId, "listRuns: parentRunId"),
    beforeRunId:
      filter.beforeRunId === undefined
        ? undefined
        : requireString(filter.beforeRunId, "listRuns: beforeRunId"),
    createdSince:
      filter.createdSince === undefined
        ? undefined
        : requireInteger(filter.createdSince, "listRuns: createdSince", 0),
    createdBefore:
      filter.createdBefore === undefined
        ? undefined
        : requireInteger(filter.createdBefore, "listRuns: createdBefore", 0),
  };
}

/** A validated event listing; `channels` undefined means every channel. */
export interface EventQuery {
  after: number;
  limit: number | undefined;
  channels: Channel[] | undefined;
}

export function readListEvents(runId: string, options: ListEventsOptions): EventQuery {
  if (typeof runId !== "string")
    throw validation(`listEvents(runId): runId must be a string, got ${describe(runId)}.`);
  const after =
    options.afterCursor === undefined
      ? 0
      : requireInteger(options.afterCursor, "listEvents: afterCursor", 0);
  const limit =
    options.limit === undefined ? undefined : requireInteger(options.limit, "listEvents: limit", 0);
  let channels: Channel[] | undefined;
  if (options.channels !== undefined) {
    if (!Array.isArray(options.channels))
      throw validation("listEvents: channels must be an array of channel names.");
    channels = [];
    for (const channel of options.channels as readonly unknown[]) {
      if (typeof channel !== "string" || !CHANNEL_SET.has(channel)) {
        throw new EngineError(
          "VALIDATION",
          `Unknown channel ${describe(channel)}.`,
          `Valid channels: ${CHANNELS.join(", ")}.`,
        );
      }
      if (!channels.includes(channel as Channel)) channels.push(channel as Channel);
    }
    if (channels.length === CHANNELS.length) channels = undefined;
  }
  return { after, limit, channels };
}

/** The validated columns of an artifact (without id and timestamp). */
export interface ArtifactWrite {
  runId: string;
  name: string;
  contentType: string;
  path: string;
  size: number;
  metadata: string | null;
}

export function readArtifact(args: CreateArtifactArgs, limits: Limits): ArtifactWrite {
  if (typeof args !== "object" || args === null)
    throw validation("createArtifact(args): args must be an object.");
  const runId = requireString(args.runId, "createArtifact: runId");
  const name = requireString(args.name, "createArtifact: name");
  if (name.length > MAX_NAME_LENGTH || /[/\\\0]/.test(name) || name === "." || name === "..") {
    throw validation(
      `createArtifact: name ${describe(name)} is not a plain file name.`,
      `Use a name without "/", "\\" or NUL, at most ${String(MAX_NAME_LENGTH)} characters.`,
    );
  }
  const contentType = requireString(args.contentType, "createArtifact: contentType");
  if (contentType.length > MAX_NAME_LENGTH) {
    throw validation(
      `createArtifact: contentType is longer than ${String(MAX_NAME_LENGTH)} characters.`,
    );
  }
  const path = requireString(args.path, "createArtifact: path");
  if (path.length > MAX_PATH_LENGTH) {
    throw validation(`createArtifact: path is longer than ${String(MAX_PATH_LENGTH)} characters.`);
  }
  if (!isAbsolute(path))
    throw validation(`createArtifact: path ${describe(path)} must be absolute.`);
  const size = requireInteger(args.size, "createArtifact: size", 0);
  let metadata: string | null = null;
  if (args.metadata !== undefined) {
    const value: unknown = args.metadata;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw validation(`createArtifact: metadata must be a JSON object, got ${describe(value)}.`);
    }
    metadata = toJsonText(value, "createArtifact: metadata", limits.maxValueBytes);
  }
  return { runId, name, contentType, path, size, metadata };
}

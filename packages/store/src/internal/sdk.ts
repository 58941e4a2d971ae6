/**
 * The SDK shapes the store validates against, gathered in one place: the run-event schema, the
 * canonical manifest schema and the JSON/status types all come from `@promenade/workflow`
 * (spec 01 §4–5), so the store and the SDK can never disagree on what a valid row holds.
 */
import type { RunStatus } from "@promenade/workflow";

export {
  canonicalManifestSchema as manifestSchema,
  CHANNELS,
  channelOf,
  runEventSchema,
} from "@promenade/workflow";
export type {
  Channel,
  JsonValue,
  RunEvent,
  RunStatus,
  WorkflowManifest,
} from "@promenade/workflow";

/**
 * The run statuses of spec 02 §2.3, in spec order. The SDK keeps its own copy private (its export
 * list is closed by spec 01 §1.2), so both directions are checked against its `RunStatus` below:
 * a status added to or dropped from the SDK stops this file compiling.
 */
export const RUN_STATUSES = [
  "queued",
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
  "cancelling",
] as const satisfies readonly RunStatus[];

/** `true` only while every SDK status is listed above. */
const _everyStatusListed: [Exclude<RunStatus, (typeof RUN_STATUSES)[number]>] extends [never]
  ? true
  : never = true;

/** How a run was started (spec 02 §2.4). */
export const TRIGGER_KINDS = ["cron", "manual", "webhook"] as const;

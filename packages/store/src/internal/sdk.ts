/**
 * The SDK shapes the store validates against, gathered in one place: the run-event schema, the
 * canonical manifest schema and the JSON types come from `@promenade/workflow`, and the
 * run-status and trigger vocabularies from `@promenade/workflow/records`, so the store and the
 * SDK can never disagree on what a valid row holds.
 */
export {
  canonicalManifestSchema as manifestSchema,
  CHANNELS,
  channelOf,
  runEventSchema,
  TURN_CURSOR_STRIDE,
} from "@promenade/workflow";
export type { Channel, JsonValue, RunEvent, WorkflowManifest } from "@promenade/workflow";
export { PASS_REASONS, RUN_STATUSES, TRIGGER_KINDS } from "@promenade/workflow/records";
export type { PassReason, RunStatus } from "@promenade/workflow/records";

/**
 * Why a pass started, for `pending` statuses that do not carry a `reason`. A new supervision of a
 * run (a dispatch or an engine's recovery) stamps its `pending` as the first event of a fresh
 * cursor block; a crash restart stamps it inside the block the crashed pass was writing. So:
 * the first pass is the first start, a `pending` that opens a block recovers a run an earlier
 * engine left behind, and any other `pending` restarts after a crash. A failover can only be told
 * apart by an explicit reason.
 */
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import type { PassReason } from "@promenade/workflow";

/** The reason a `pending` at `cursor` starts a pass; `explicit` wins when the event carries one. */
export function passReason(
  explicit: PassReason | undefined,
  isFirstPass: boolean,
  cursor: number,
): PassReason {
  if (explicit !== undefined) return explicit;
  if (isFirstPass) return "first_start";
  return cursor % TURN_CURSOR_STRIDE === 1 ? "engine_restart" : "crash_restart";
}

/**
 * Why a pass started. The supervisor stamps the reason on the `pending` that opens a pass and on
 * that pass's `running` statuses; the stamped reason is used whenever present. Logs written
 * before it was stamped are read by the old guess: a new supervision of a run (a dispatch or an
 * engine's recovery) stamps its `pending` as the first event of a fresh cursor block, while a
 * crash restart stamps it inside the block the crashed pass was writing. So: the first pass is
 * the first start, a `pending` that opens a block recovers a run an earlier engine left behind,
 * and any other `pending` restarts after a crash. A failover can only be told apart by a stamped
 * reason.
 */
import { TURN_CURSOR_STRIDE } from "@promenade/workflow";
import type { PassReason } from "@promenade/workflow";

/** The reason a `pending` at `cursor` starts a pass; `stamped` wins when the event carries one. */
export function passReason(
  stamped: PassReason | undefined,
  isFirstPass: boolean,
  cursor: number,
): PassReason {
  if (stamped !== undefined) return stamped;
  if (isFirstPass) return "first_start";
  return cursor % TURN_CURSOR_STRIDE === 1 ? "engine_restart" : "crash_restart";
}

/**
 * The run process's side of the IPC channel as the SDK host and the agent host see it: host calls
 * that wait for an answer, fire-and-forget messages, event emission and the run's redactor.
 * {@link ChildRuntime} in `runtime.ts` implements it.
 */
import type { BatchableChildMessage } from "../protocol.ts";
import type { ChildRedactor } from "./redactor.ts";

export interface ChildChannel {
  /** The run's one redactor (also receives `secrets.get` values and env-interpolated secrets). */
  readonly redactor: ChildRedactor;
  /** Sends a `host_call` and resolves with its result (rejects with the rebuilt error). */
  hostCall(method: string, args: Record<string, unknown>): Promise<unknown>;
  /** Queues a fire-and-forget message, written with the current turn's batch. */
  post(message: BatchableChildMessage): void;
  /** Sends one event body unless it nests past the JSON depth limit (then the run fails). */
  emit(body: { kind: string } & Record<string, unknown>, turnId?: string): void;
}

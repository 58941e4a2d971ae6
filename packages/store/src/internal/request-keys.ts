/**
 * Client retry keys on run-creating requests (an HTTP `Idempotency-Key`): the argument check and
 * the rule both backends apply. A key is scoped to its workflow and bound to the run its first
 * request created, together with a fingerprint of that request. For {@link REQUEST_KEY_TTL_MS}
 * after that run was created, the same key with the same fingerprint finds the run (nothing
 * written) and with another fingerprint is `CONFLICT`; after that the key is free: the next
 * request with it creates a new run and the key is bound to that one. The binding is written in
 * the transaction that creates the run, so a crash can never separate them. Pure; no I/O.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { CreateRunArgs, RequestKey } from "../types.ts";
import { requireString, validation } from "./args.ts";

/** How long a request key stays bound to its run: 24 hours. */
export const REQUEST_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Expired rows (request keys, webhook deliveries) deleted per write that adds one: more than the
 * one row each write adds, so expired rows never pile up, and few enough to keep the write short.
 */
export const EXPIRED_SWEEP_BATCH = 32;

/** Longest key and fingerprint, in characters. */
const MAX_LENGTH = 1024;

/**
 * `args.requestKey` checked, or `null` when absent. Only a top-level run without a
 * `workflows.call` idempotency key takes one (`VALIDATION` otherwise).
 */
export function readRequestKey(args: CreateRunArgs): RequestKey | null {
  const requestKey = args.requestKey;
  if (requestKey === undefined) return null;
  if (typeof requestKey !== "object" || requestKey === null) {
    throw validation("createRun: requestKey must be { key, fingerprint }.");
  }
  if (args.parentRunId !== undefined || args.idempotencyKey !== undefined) {
    throw validation(
      "createRun: requestKey is for top-level runs and cannot be combined with parentRunId or idempotencyKey.",
    );
  }
  const key = requireString(requestKey.key, "createRun: requestKey.key");
  const fingerprint = requireString(requestKey.fingerprint, "createRun: requestKey.fingerprint");
  for (const [what, value] of [
    ["key", key],
    ["fingerprint", fingerprint],
  ] as const) {
    if (value.length > MAX_LENGTH) {
      throw validation(
        `createRun: requestKey.${what} is ${String(value.length)} characters, over the ${String(MAX_LENGTH)} limit.`,
        "Hash long keys (e.g. SHA-256 hex) before passing them.",
      );
    }
  }
  return { key, fingerprint };
}

/** Whether a binding made at `createdAt` still holds at `now`. */
export function isBound(createdAt: number, now: number): boolean {
  return now - createdAt < REQUEST_KEY_TTL_MS;
}

/** The `CONFLICT` of a key reused for a different request while it is bound to `runId`. */
export function requestKeyConflict(key: string, runId: string): EngineError {
  const shown = key.length > 80 ? `${key.slice(0, 77)}...` : key;
  return new EngineError(
    "CONFLICT",
    `Idempotency key "${shown}" was already used for a different request to this workflow (run ${runId}).`,
    `Retry with exactly the same request to get run ${runId}, or use a new key for a new request.`,
  );
}

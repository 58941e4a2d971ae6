/**
 * The default idempotency key of `workflows.call` / `workflows.run`: a restarted
 * parent pass re-executing the same call computes the same key and re-attaches to its child.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./internal/json.ts";

/**
 * Lowercase hex SHA-256 of `parentRunId + " " + slug + " " + canonicalJson(input)`: 64 chars,
 * independent of object key order, different when parent, slug or input differ.
 */
export function defaultIdempotencyKey(parentRunId: string, slug: string, input: unknown): string {
  return createHash("sha256")
    .update(`${parentRunId} ${slug} ${canonicalJson(input)}`, "utf8")
    .digest("hex");
}

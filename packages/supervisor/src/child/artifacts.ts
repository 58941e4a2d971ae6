/**
 * The run's artifact store as a run process reaches it: `write_artifact` and `read_artifact` host
 * calls. Writes made by the SDK's `artifacts.write()` and by the agent's `artifacts` built-in take
 * the same path, so both get the same name, content-type, size and metadata checks (made by the
 * supervisor and the store, not trusted to this process).
 */
import type { ArtifactBody, ArtifactRef } from "@promenade/workflow/runtime";
import { EngineError } from "@promenade/workflow/errors";
import type { ChildChannel } from "./channel.ts";
import { toJsonValue } from "./json.ts";

/** An artifact's content as `read_artifact` returns it. */
export interface ReadArtifact {
  name: string;
  /** The bytes decoded as UTF-8 text. */
  text: string;
  /** The stored size in bytes. */
  size: number;
}

/** `artifacts.write(name, contentType, body, metadata?)` over the channel. */
export async function writeArtifact(
  channel: ChildChannel,
  name: string,
  contentType: string,
  body: ArtifactBody,
  metadata: Record<string, unknown> | undefined,
): Promise<ArtifactRef> {
  let bodyBase64: string;
  if (typeof body === "string") bodyBase64 = Buffer.from(body, "utf8").toString("base64");
  else if (body instanceof Uint8Array) {
    bodyBase64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64");
  } else {
    throw new EngineError("VALIDATION", "artifacts.write body must be a string or a Uint8Array.");
  }
  const args: Record<string, unknown> = { name, contentType, bodyBase64 };
  if (metadata !== undefined) args.metadata = toJsonValue(metadata, "artifacts.write metadata");
  return (await channel.hostCall("write_artifact", args)) as ArtifactRef;
}

/** The run's artifact `name` as text, or `null` when the run has none by that name. */
export async function readArtifact(
  channel: ChildChannel,
  name: string,
): Promise<ReadArtifact | null> {
  return (await channel.hostCall("read_artifact", { name })) as ReadArtifact | null;
}

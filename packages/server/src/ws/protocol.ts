/**
 * The WebSocket protocol's client side: decoding a text frame into a message object, checking each
 * message type's fields, and the `error` frame a failed request answers with. Parsing only: what a
 * valid message does is up to the channel.
 */
import type { RawData } from "ws";
import { selectChannels } from "@promenade/workflow";
import type { Channel } from "@promenade/workflow";
import { isEngineError } from "@promenade/workflow/errors";
import { jsonTextDepthProblem, tooDeepMessage } from "@promenade/workflow/limits";
import { describe } from "../internal/error-text.ts";

const SUB_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** A request the client got wrong: answered with an `error` frame carrying `code`. */
export class ProtocolError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** One client message whose fields have been checked. */
export type ClientMessage =
  | {
      type: "subscribe";
      sub: string;
      /** Not yet checked against `RUN_ID_PATTERN` (capacity is checked first). */
      runId: string;
      after: number;
      channels: readonly Channel[];
    }
  | {
      type: "subscribe_runs";
      sub: string;
      /** Not yet checked against `SLUG_PATTERN` (capacity is checked first). */
      workflow: string | undefined;
    }
  | { type: "unsubscribe"; sub: string }
  | { type: "ping"; nonce: string | undefined };

/** Decodes one text frame into a JSON object (not yet a checked message). */
export function decodeMessage(data: RawData): Record<string, unknown> {
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString("utf8")
    : Buffer.from(data as ArrayBuffer).toString("utf8");
  const tooDeep = jsonTextDepthProblem(text);
  if (tooDeep !== null) throw new ProtocolError("VALIDATION", tooDeepMessage("Message", tooDeep));
  let msg: unknown;
  try {
    msg = JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolError("BAD_MESSAGE", "Message is not valid JSON.");
  }
  if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
    throw new ProtocolError("BAD_MESSAGE", "Message must be a JSON object.");
  }
  return msg as Record<string, unknown>;
}

/** Checks a decoded message's type and fields; throws {@link ProtocolError} (or VALIDATION). */
export function parseMessage(m: Record<string, unknown>): ClientMessage {
  switch (m["type"]) {
    case "subscribe":
      return parseSubscribe(m);
    case "subscribe_runs": {
      strict(m, ["type", "sub", "workflow"]);
      const sub = requireSub(m);
      const workflow = m["workflow"];
      if (workflow !== undefined && typeof workflow !== "string") {
        throw new ProtocolError("VALIDATION", 'Field "workflow" must be a workflow slug.');
      }
      return { type: "subscribe_runs", sub, workflow };
    }
    case "unsubscribe":
      strict(m, ["type", "sub"]);
      return { type: "unsubscribe", sub: requireSub(m) };
    case "ping": {
      strict(m, ["type", "nonce"]);
      const nonce = m["nonce"];
      if (nonce !== undefined && (typeof nonce !== "string" || nonce.length > 64)) {
        throw new ProtocolError(
          "VALIDATION",
          'Field "nonce" must be a string of at most 64 characters.',
        );
      }
      return { type: "ping", nonce };
    }
    default:
      throw new ProtocolError(
        "BAD_MESSAGE",
        m["type"] === undefined
          ? 'Message has no "type".'
          : `Unknown message type ${JSON.stringify(m["type"])}.`,
        "Valid types: subscribe, subscribe_runs, unsubscribe, ping.",
      );
  }
}

function parseSubscribe(m: Record<string, unknown>): ClientMessage {
  strict(m, ["type", "sub", "runId", "after", "channels", "verbose"]);
  const sub = requireSub(m);
  const runId = m["runId"];
  if (typeof runId !== "string") {
    throw new ProtocolError("VALIDATION", 'Field "runId" must be a string.');
  }
  const after = m["after"] ?? 0;
  if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0) {
    throw new ProtocolError("VALIDATION", 'Field "after" must be a non-negative integer cursor.');
  }
  const channelsField = m["channels"];
  if (channelsField !== undefined) {
    if (
      !Array.isArray(channelsField) ||
      channelsField.length === 0 ||
      !channelsField.every((c) => typeof c === "string")
    ) {
      throw new ProtocolError(
        "VALIDATION",
        'Field "channels" must be a non-empty array of channel names.',
        "Valid channels: lifecycle, phase, output, log, agent.",
      );
    }
  }
  const verbose = m["verbose"];
  if (verbose !== undefined && typeof verbose !== "boolean") {
    throw new ProtocolError("VALIDATION", 'Field "verbose" must be a boolean.');
  }
  const channels = selectChannels({ channels: channelsField, verbose });
  return { type: "subscribe", sub, runId, after, channels };
}

/**
 * The `error` frame for a failed request. Client mistakes (protocol errors, VALIDATION and
 * NOT_FOUND engine errors) are detailed; anything else is logged and answered INTERNAL.
 */
export function failureFrame(
  sub: string | undefined,
  err: unknown,
  log: (line: string) => void,
  context: string,
): Record<string, unknown> {
  let code = "INTERNAL";
  let message = "Internal server error.";
  let hint: string | undefined;
  if (err instanceof ProtocolError) {
    ({ code, message, hint } = err);
  } else if (isEngineError(err) && (err.code === "VALIDATION" || err.code === "NOT_FOUND")) {
    ({ code, message, hint } = err);
  } else {
    log(`${context}: ${describe(err)}`);
  }
  const frame: Record<string, unknown> = { type: "error" };
  if (sub !== undefined && SUB_PATTERN.test(sub)) frame["sub"] = sub;
  frame["code"] = code;
  frame["message"] = message;
  if (hint !== undefined) frame["hint"] = hint;
  return frame;
}

function strict(m: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(m)) {
    if (!allowed.includes(key)) {
      throw new ProtocolError(
        "VALIDATION",
        `Unknown field "${key}" in ${String(m["type"])} message.`,
        `Allowed fields: ${allowed.join(", ")}.`,
      );
    }
  }
}

function requireSub(m: Record<string, unknown>): string {
  const sub = m["sub"];
  if (typeof sub !== "string" || !SUB_PATTERN.test(sub)) {
    throw new ProtocolError("VALIDATION", 'Field "sub" must match ^[A-Za-z0-9._:-]{1,64}$.');
  }
  return sub;
}

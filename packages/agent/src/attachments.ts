/**
 * `agent({ attachments })`: files and images sent with the first user message. Each attachment
 * is `{ mimeType, data?, url?, filename? }` with exactly one of `data` (base64) and `url`
 * (http, https or a `data:` URL). The shape is checked before any model request; each provider
 * adapter maps the checked list to its own content parts, and refuses, naming the attachment,
 * a kind its wire format cannot carry.
 */
import { EngineError } from "@promenade/workflow/errors";

/** One checked attachment. */
export interface Attachment {
  mimeType: string;
  /** Base64 content; absent when `url` is given. */
  data?: string;
  /** Where the provider fetches the content; absent when `data` is given. */
  url?: string;
  filename?: string;
}

const FIELDS = new Set(["mimeType", "data", "url", "filename"]);
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;
const SHAPE_HINT =
  'Pass attachments: [{ mimeType: "image/png", data: "<base64>" }] or [{ mimeType, url: "https://…" }], with an optional filename.';

function invalid(where: string, problem: string, hint = SHAPE_HINT): EngineError {
  return new EngineError("VALIDATION", `agent() option "${where}" ${problem}.`, hint);
}

/**
 * The checked attachments (`[]` when absent).
 * @throws EngineError `VALIDATION` naming the attachment and field, with the accepted shape.
 */
export function parseAttachments(value: unknown): Attachment[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid("attachments", "must be an array");
  return value.map((entry: unknown, i): Attachment => {
    const where = `attachments[${String(i)}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw invalid(where, "must be an object");
    }
    const record = entry as Record<string, unknown>;
    const extra = Object.keys(record).find((key) => !FIELDS.has(key));
    if (extra !== undefined) throw invalid(`${where}.${extra}`, "is not a known field");
    const { mimeType, data, url, filename } = record;
    if (typeof mimeType !== "string" || !MIME.test(mimeType)) {
      throw invalid(`${where}.mimeType`, 'must be a media type such as "image/png"');
    }
    if ((data === undefined) === (url === undefined)) {
      throw invalid(where, "must have exactly one of data (base64) and url");
    }
    const out: Attachment = { mimeType: mimeType.toLowerCase() };
    if (data !== undefined) {
      if (typeof data !== "string" || data === "" || !BASE64.test(data)) {
        throw invalid(`${where}.data`, "must be non-empty base64 text");
      }
      out.data = data.replace(/[\r\n]/g, "");
    } else {
      if (typeof url !== "string" || !/^(https?:\/\/|data:)/i.test(url)) {
        throw invalid(`${where}.url`, "must be an http(s):// or data: URL");
      }
      out.url = url;
    }
    if (filename !== undefined) {
      if (typeof filename !== "string" || filename === "") {
        throw invalid(`${where}.filename`, "must be a non-empty string when present");
      }
      out.filename = filename;
    }
    return out;
  });
}

/** True for an image a model reads as an image part. */
export function isImage(attachment: Attachment): boolean {
  return attachment.mimeType.startsWith("image/");
}

/** The attachment as a `data:` URL (its `url` when that already is one). */
export function dataUrl(attachment: Attachment): string | undefined {
  if (attachment.data !== undefined) return `data:${attachment.mimeType};base64,${attachment.data}`;
  return attachment.url?.startsWith("data:") === true ? attachment.url : undefined;
}

/** The base64 content: `data`, or the payload of a base64 `data:` URL. */
export function base64Of(attachment: Attachment): string | undefined {
  if (attachment.data !== undefined) return attachment.data;
  const match = /^data:[^,]*;base64,(.*)$/is.exec(attachment.url ?? "");
  return match?.[1];
}

/** A provider that cannot carry `attachment` as given: `VALIDATION` naming it and the fix. */
export function unsupportedAttachment(
  provider: string,
  index: number,
  attachment: Attachment,
  fix: string,
): EngineError {
  return new EngineError(
    "VALIDATION",
    `agent() option "attachments[${String(index)}]" (${attachment.mimeType}${attachment.url === undefined ? "" : " by url"}) cannot be sent to ${provider}.`,
    fix,
  );
}

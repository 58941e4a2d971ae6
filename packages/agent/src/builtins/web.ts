/**
 * The `webfetch` (GET) and `http` (any method) built-ins: one request to an http(s) URL, the
 * result `[HTTP <status> <content type>]` then the body, cut at `maxBytes`. A network failure is
 * a tool error; any HTTP status is a normal result.
 */
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool } from "../tools.ts";
import { optInt, optStr, str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";

/** Default and largest body size returned. */
export const WEB_DEFAULT_MAX_BYTES = 100_000;
export const WEB_MAX_BYTES = 1_000_000;
const TIMEOUT_MS = 30_000;

function httpUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new EngineError("VALIDATION", `"url" ${JSON.stringify(given)} is not a valid URL.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new EngineError(
      "VALIDATION",
      `Only http and https URLs can be fetched, not ${url.protocol}.`,
    );
  }
  return url;
}

async function request(
  ctx: BuiltinContext,
  url: URL,
  init: RequestInit,
  maxBytes: number,
): Promise<string> {
  let response: Response;
  try {
    response = await ctx.fetch(url, {
      ...init,
      redirect: "follow",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { message?: unknown } }).cause?.message;
    throw new EngineError(
      "VALIDATION",
      `Request to ${url.href} failed: ${typeof cause === "string" ? cause : (err as Error).message}`,
    );
  }
  const type = response.headers.get("content-type") ?? "unknown";
  const chunks: Uint8Array[] = [];
  let size = 0;
  let clipped = false;
  if (response.body !== null) {
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      if (size >= maxBytes) {
        clipped = size > maxBytes;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  }
  const body = Buffer.concat(chunks).subarray(0, maxBytes).toString("utf8");
  const note = clipped ? `\n[body cut at ${maxBytes} bytes]` : "";
  return `[HTTP ${response.status} ${type}]\n${body}${note}`;
}

function maxBytesOf(input: Record<string, unknown>): number {
  return Math.min(optInt(input, "maxBytes") ?? WEB_DEFAULT_MAX_BYTES, WEB_MAX_BYTES);
}

export function webfetchTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "webfetch",
      description:
        "GET an http(s) URL. The result starts with `[HTTP <status> <content type>]`, then the " +
        `body (default ${WEB_DEFAULT_MAX_BYTES} bytes, \`maxBytes\` up to ${WEB_MAX_BYTES}).`,
      inputSchema: {
        type: "object",
        required: ["url"],
        properties: { url: { type: "string" }, maxBytes: { type: "integer", minimum: 1 } },
      },
    },
    async execute(input) {
      return request(ctx, httpUrl(str(input, "url")), { method: "GET" }, maxBytesOf(input));
    },
  };
}

export function httpTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "http",
      description:
        "Send an HTTP request (any method) to an http(s) URL with optional headers and a text " +
        "body. Same result form as webfetch.",
      inputSchema: {
        type: "object",
        required: ["url"],
        properties: {
          url: { type: "string" },
          method: { type: "string" },
          headers: { type: "object", additionalProperties: { type: "string" } },
          body: { type: "string" },
          maxBytes: { type: "integer", minimum: 1 },
        },
      },
    },
    async execute(input) {
      const url = httpUrl(str(input, "url"));
      const method = (optStr(input, "method") ?? "GET").toUpperCase();
      const headers = input.headers;
      if (
        headers !== undefined &&
        (typeof headers !== "object" ||
          headers === null ||
          Object.values(headers).some((v) => typeof v !== "string"))
      ) {
        throw new EngineError("VALIDATION", `"headers" must be an object of strings.`);
      }
      const body = optStr(input, "body");
      const init: RequestInit = { method };
      if (headers !== undefined) init.headers = headers;
      if (body !== undefined) init.body = body;
      return request(ctx, url, init, maxBytesOf(input));
    },
  };
}

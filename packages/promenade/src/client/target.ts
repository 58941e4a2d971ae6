/**
 * Which server a command talks to: `--url`/`--token` first, then `PROMENADE_URL` /
 * `PROMENADE_API_TOKEN`, then the local default `http://127.0.0.1:8080`. A malformed address is a
 * usage error naming where it came from. The token is never printed.
 */
import { UsageError } from "../errors.ts";

/** The server default, matching `promenade server`'s default bind. */
export const DEFAULT_URL = "http://127.0.0.1:8080";

/** A resolved server address. */
export interface ServerTarget {
  /** Origin plus an optional path prefix, without a trailing slash. */
  baseUrl: string;
  token: string | undefined;
}

/**
 * Resolve the target from flags and environment.
 * @throws UsageError when the address is not an http(s) URL.
 */
export function resolveTarget(
  flags: { url?: string | undefined; token?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ServerTarget {
  const fromEnv = env["PROMENADE_URL"];
  const [raw, source] =
    flags.url !== undefined
      ? [flags.url, "--url"]
      : fromEnv !== undefined && fromEnv !== ""
        ? [fromEnv, "PROMENADE_URL"]
        : [DEFAULT_URL, "the default"];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(
      `${source} is not a URL: "${raw}".`,
      `Give the server address, e.g. ${DEFAULT_URL}.`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(
      `${source} must be an http:// or https:// URL, got "${raw}".`,
      `Give the server address, e.g. ${DEFAULT_URL}.`,
    );
  }
  const envToken = env["PROMENADE_API_TOKEN"];
  const token = flags.token ?? (envToken === undefined || envToken === "" ? undefined : envToken);
  return { baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, "")}`, token };
}

/** The WebSocket endpoint of a target: `ws(s)://…/api/ws`. */
export function webSocketUrl(target: ServerTarget): string {
  return `${target.baseUrl.replace(/^http/, "ws")}/api/ws`;
}

/** The target named by a command's parsed `--url` / `--token` (see {@link resolveTarget}). */
export function targetFromArgs(
  values: Readonly<Record<string, string | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): ServerTarget {
  const url = values["url"];
  const token = values["token"];
  return resolveTarget(
    {
      url: typeof url === "string" ? url : undefined,
      token: typeof token === "string" ? token : undefined,
    },
    env,
  );
}

/**
 * Reaching the PostgreSQL server: reading the connection URL, the pool settings, and turning
 * every way of not reaching the server (bad URL, wrong password, unknown database, refused or
 * unanswered connection, a server that went away) into one-line `EngineError`s that name the
 * problem and the fix. Invariant: no message ever contains the password.
 */
import { EngineError } from "@promenade/workflow/errors";
import { driverError } from "./errors.ts";

/** Where the store connects, for messages: `host:port` (or the socket directory). */
export interface PgTarget {
  /** `host:port`, never with credentials. */
  readonly label: string;
  readonly database: string | undefined;
}

const URL_HINT =
  "Set PROMENADE_DATABASE_URL (or the url option) to postgres://user:password@host:5432/database.";

/** Validates `url` (`postgres://` or `postgresql://`) and describes its target. */
export function parseDatabaseUrl(url: unknown): PgTarget {
  if (typeof url !== "string" || url.length === 0) {
    throw new EngineError("VALIDATION", "The PostgreSQL URL must be a non-empty string.", URL_HINT);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text may hold a password: describe it, never echo it.
    throw new EngineError(
      "VALIDATION",
      "The PostgreSQL URL is not a valid URL.",
      `${URL_HINT} Percent-encode special characters in the password.`,
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new EngineError(
      "VALIDATION",
      `The PostgreSQL URL must start with postgres:// or postgresql://, not ${parsed.protocol}//.`,
      URL_HINT,
    );
  }
  const socket = parsed.searchParams.get("host");
  const host = parsed.hostname !== "" ? parsed.hostname : (socket ?? "localhost");
  if (parsed.port !== "" && !/^\d+$/.test(parsed.port)) {
    throw new EngineError("VALIDATION", "The PostgreSQL URL has an invalid port.", URL_HINT);
  }
  const port = parsed.port === "" ? "5432" : parsed.port;
  let database: string | undefined;
  try {
    const path = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
    database = path === "" ? undefined : path;
  } catch {
    throw new EngineError(
      "VALIDATION",
      "The PostgreSQL URL's database name is not valid percent-encoding.",
      URL_HINT,
    );
  }
  return { label: host.startsWith("/") ? host : `${host}:${port}`, database };
}

/** Every message along `error`'s cause chain, outermost first (pg wraps its timeouts). */
function messagesOf(error: unknown): string[] {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const text = (current as { message?: unknown }).message;
    if (typeof text === "string" && text !== "") messages.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  return messages;
}

const SERVER_HINT = "Check PROMENADE_DATABASE_URL and that the server is running.";
const LOST_HINT =
  "The database server stopped, restarted or dropped the connection; the store reconnects by itself once it answers again.";

/**
 * Classifies a failure to reach the server (or a connection lost mid-query). Returns the
 * `INTERNAL` error to throw, or `undefined` when `error` is not about the connection.
 * `opening` selects the wording of the first connection ("Cannot connect to …").
 */
export function connectionFailure(
  error: unknown,
  target: PgTarget,
  opening: boolean,
): EngineError | undefined {
  const found = driverError(error);
  const code = found?.code;
  const messages = messagesOf(error);
  const message = found?.message ?? messages.at(-1) ?? "";
  const at = target.label;
  const fail = (problem: string, hint: string): EngineError =>
    new EngineError(
      "INTERNAL",
      opening
        ? `Cannot connect to PostgreSQL at ${at}: ${problem}.`
        : `PostgreSQL at ${at} is unavailable: ${problem}.`,
      hint,
      { cause: error },
    );
  switch (code) {
    case "28P01":
    case "28000":
      // The server's own words name the user (never the password).
      return fail(
        message.replace(/\.$/, ""),
        "Check the user and password in PROMENADE_DATABASE_URL (and the server's pg_hba.conf).",
      );
    case "3D000":
      return fail(
        message.replace(/\.$/, ""),
        `Create it (createdb ${target.database ?? "<name>"}) or fix the database name in PROMENADE_DATABASE_URL.`,
      );
    case "ECONNREFUSED":
      return fail("connection refused", SERVER_HINT);
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail("host not found", "Check the host name in PROMENADE_DATABASE_URL.");
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return fail("no route or no answer from the host", SERVER_HINT);
    case "ECONNRESET":
    case "EPIPE":
      return fail("the connection was reset", opening ? SERVER_HINT : LOST_HINT);
    case "57P01":
    case "57P02":
    case "57P03":
      return fail(`the server is shutting down or starting up (${message})`, LOST_HINT);
    case "53300":
      return fail(
        "too many connections",
        "Lower the store's maxConnections or raise the server's max_connections.",
      );
    case "ENOENT":
      if (target.label.startsWith("/")) return fail("no server socket there", SERVER_HINT);
      return undefined;
    default:
      break;
  }
  if (code !== undefined && code.startsWith("08")) {
    return fail(`connection failure (${message})`, opening ? SERVER_HINT : LOST_HINT);
  }
  if (
    messages.some((text) =>
      /connection timeout|timeout expired|timeout exceeded when trying to connect/i.test(text),
    )
  ) {
    return fail("no answer before the connection timeout", SERVER_HINT);
  }
  if (
    /Connection terminated|not queryable|Connection ended|connection error/i.test(message) &&
    code === undefined
  ) {
    return fail(`the connection was lost (${message})`, opening ? SERVER_HINT : LOST_HINT);
  }
  if (/does not support SSL|SSL/i.test(message) && code === undefined) {
    return fail(
      message.replace(/\.$/, ""),
      "Match sslmode in PROMENADE_DATABASE_URL to the server.",
    );
  }
  return undefined;
}

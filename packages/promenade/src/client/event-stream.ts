/**
 * The WebSocket half of the thin client: tail one run's events over `/api/ws`
 * (`promenade.events.v1`), resuming after a dropped connection by cursor. Invariant: every
 * selected stored event after the starting cursor reaches `onEvent` exactly once, in cursor
 * order, across any number of reconnects — the resume point is the larger of the last delivered
 * event's cursor and the last `caught_up` cursor, and a frame at or below it is dropped.
 * Knows nothing about rendering. Uses the `ws` package (the `WebSocket` global needs a flag
 * before Node 22.4, and `ws` can send the `Authorization` header).
 */
import type { Channel } from "@promenade/workflow";
import type { TerminalStatus } from "@promenade/workflow/records";
import { WebSocket } from "ws";
import type { RawData } from "ws";
import { CliError } from "../errors.ts";
import { apiFailure, unreachable } from "./api.ts";
import type { ApiEventRow } from "./api-shapes.ts";
import { webSocketUrl } from "./target.ts";
import type { ServerTarget } from "./target.ts";

const PROTOCOL = "promenade.events.v1";
const SUB = "run";

/** Options of {@link followRun}. */
export interface FollowOptions {
  target: ServerTarget;
  runId: string;
  /** Deliver events with a cursor above this. Default `0` (from the start). */
  after?: number;
  /** Channels to receive, or `"all"` for every channel. */
  channels: readonly Channel[] | "all";
  /** `true`: stream live events until the run ends. `false`: stop once the stored log is sent. */
  follow: boolean;
  onEvent: (row: ApiEventRow) => void;
  /** A dropped connection; the next attempt starts after `delayMs`. */
  onReconnect?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** A (re)subscription was accepted; `after` is the resume cursor it used. */
  onSubscribed?: (info: { after: number; reconnected: boolean }) => void;
  /** Stops following; the promise resolves `{ kind: "aborted" }`. */
  signal?: AbortSignal;
  /** Reconnect backoff: first delay, cap (ms) and attempts in a row. Defaults 250, 5000, 12. */
  retry?: { initialMs?: number; maxMs?: number; attempts?: number };
}

/** How following ended. `cursor` is the resume point at that moment. */
export type FollowResult =
  | { kind: "ended"; status: TerminalStatus; cursor: number }
  | { kind: "caught_up"; cursor: number }
  | { kind: "aborted"; cursor: number };

interface Frame {
  type?: unknown;
  sub?: unknown;
  cursor?: unknown;
  event?: unknown;
  status?: unknown;
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  heartbeatMs?: unknown;
}

/**
 * Tail a run. Resolves when the run ends (`follow`), when the backlog is delivered (no
 * `follow`), or on abort.
 * @throws CliError `NOT_FOUND` for an unknown run, `UNREACHABLE` when the first connection
 * fails or reconnecting keeps failing, the server's code for a refused upgrade.
 */
export function followRun(options: FollowOptions): Promise<FollowResult> {
  const url = webSocketUrl(options.target);
  const initialMs = options.retry?.initialMs ?? 250;
  const maxMs = options.retry?.maxMs ?? 5000;
  const attempts = options.retry?.attempts ?? 12;
  let cursor = options.after ?? 0;
  let everSubscribed = false;
  let failures = 0;

  return new Promise<FollowResult>((resolve, reject) => {
    let socket: WebSocket | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let watchdog: ReturnType<typeof setTimeout> | null = null;
    let settled = false;

    const finish = (outcome: { ok: FollowResult } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (watchdog !== null) clearTimeout(watchdog);
      options.signal?.removeEventListener("abort", onAbort);
      const open = socket;
      socket = null;
      if (open !== null) {
        if (open.readyState === WebSocket.OPEN) open.close(1000);
        else open.terminate();
      }
      if ("ok" in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    };

    const onAbort = (): void => finish({ ok: { kind: "aborted", cursor } });
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort);

    const dropped = (reason: string, error?: unknown): void => {
      if (settled) return;
      socket = null;
      if (watchdog !== null) clearTimeout(watchdog);
      if (!everSubscribed) {
        // Nothing ever worked: the address is wrong or the server is down. Say so now.
        finish({ error: unreachable(options.target.baseUrl, error ?? new Error(reason)) });
        return;
      }
      failures += 1;
      if (failures > attempts) {
        finish({
          error: new CliError(`lost the connection to ${options.target.baseUrl} (${reason}).`, {
            code: "UNREACHABLE",
            hint: `Resume later with --after ${cursor}.`,
          }),
        });
        return;
      }
      const delayMs = Math.min(maxMs, initialMs * 2 ** (failures - 1));
      options.onReconnect?.({ attempt: failures, delayMs, reason });
      retryTimer = setTimeout(connect, delayMs);
    };

    const connect = (): void => {
      retryTimer = null;
      if (settled) return;
      const headers: Record<string, string> = {};
      if (options.target.token !== undefined) {
        headers["authorization"] = `Bearer ${options.target.token}`;
      }
      const ws = new WebSocket(url, PROTOCOL, {
        headers,
        perMessageDeflate: false,
        handshakeTimeout: 10_000,
      });
      socket = ws;
      let lastError: unknown;
      let heartbeatMs = 30_000;
      const alive = (): void => {
        if (watchdog !== null) clearTimeout(watchdog);
        // The server pings every heartbeatMs; two missed pings mean a half-open connection.
        watchdog = setTimeout(() => ws.terminate(), 2 * heartbeatMs + 5000);
        watchdog.unref();
      };
      ws.on("ping", alive);
      ws.on("error", (error) => {
        lastError = error;
      });
      ws.on("unexpected-response", (_request, response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = undefined;
          }
          if (status === 503 && everSubscribed) {
            // Draining or full: a restarting server comes back, so keep trying.
            lastError = new Error(`HTTP ${status}`);
          } else {
            finish({ error: apiFailure(status, parsed, options.target) });
          }
          ws.terminate();
        });
      });
      ws.on("close", (code) => {
        if (socket !== ws) return;
        const reason = lastError instanceof Error ? lastError.message : `close code ${code}`;
        dropped(reason, lastError);
      });
      ws.on("message", (data: RawData) => {
        if (settled || socket !== ws) return;
        alive();
        let frame: Frame;
        try {
          frame = JSON.parse(rawText(data)) as Frame;
        } catch {
          return;
        }
        switch (frame.type) {
          case "hello":
            if (typeof frame.heartbeatMs === "number") heartbeatMs = frame.heartbeatMs;
            alive();
            ws.send(
              JSON.stringify({
                type: "subscribe",
                sub: SUB,
                runId: options.runId,
                after: cursor,
                ...(options.channels === "all"
                  ? { verbose: true }
                  : { channels: [...options.channels] }),
              }),
            );
            return;
          case "subscribed": {
            const reconnected = everSubscribed;
            everSubscribed = true;
            failures = 0;
            options.onSubscribed?.({ after: cursor, reconnected });
            return;
          }
          case "event": {
            if (frame.sub !== SUB || typeof frame.cursor !== "number") return;
            if (frame.cursor <= cursor) return;
            cursor = frame.cursor;
            options.onEvent({
              runId: options.runId,
              cursor: frame.cursor,
              event: frame.event as ApiEventRow["event"],
            });
            return;
          }
          case "caught_up":
            if (frame.sub !== SUB) return;
            if (typeof frame.cursor === "number") cursor = Math.max(cursor, frame.cursor);
            if (!options.follow) finish({ ok: { kind: "caught_up", cursor } });
            return;
          case "end":
            if (frame.sub !== SUB) return;
            if (typeof frame.cursor === "number") cursor = Math.max(cursor, frame.cursor);
            finish({
              ok: { kind: "ended", status: frame.status as TerminalStatus, cursor },
            });
            return;
          case "error": {
            const code = typeof frame.code === "string" ? frame.code : "INTERNAL";
            const message = typeof frame.message === "string" ? frame.message : "unknown error";
            finish({
              error: new CliError(`${code}: ${message}`, {
                code,
                hint: typeof frame.hint === "string" ? frame.hint : undefined,
              }),
            });
            return;
          }
          default:
            return;
        }
      });
    };

    connect();
  });
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

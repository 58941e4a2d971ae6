/**
 * Interactive MCP OAuth grants started from the server (`/api/mcp/authorizations`): calls the
 * injected `authorizeMcpServer`, surfaces the authorization URL the operator must open, and
 * reports when the grant is stored. The engine's loopback redirect listener completes the flow;
 * no token, secret or client credential ever passes through here.
 */
import { randomUUID } from "node:crypto";
import { isEngineError } from "@promenade/workflow/errors";
import type { AuthorizeMcpServer } from "./ports.ts";

/** One authorization attempt as the API shows it. */
export interface McpAuthorization {
  id: string;
  serverUrl: string;
  status: "starting" | "awaiting_user" | "authorized" | "failed";
  authorizationUrl: string | null;
  error: { code: string; message: string } | null;
  createdAt: number;
}

const KEEP = 50;
/** How long `start` waits for the authorization URL before answering anyway, ms. */
const FIRST_STEP_WAIT_MS = 15_000;

/** Tracks recent attempts in memory (lost on restart; a stored grant is not). */
export class McpAuthorizations {
  private readonly items = new Map<string, McpAuthorization>();
  private readonly authorize: AuthorizeMcpServer;
  private readonly log: (line: string) => void;

  constructor(authorize: AuthorizeMcpServer, log: (line: string) => void) {
    this.authorize = authorize;
    this.log = log;
  }

  /** Start a grant; resolves when the URL is known, the flow settled, or after 15 s. */
  start(serverUrl: string): Promise<McpAuthorization> {
    const item: McpAuthorization = {
      id: randomUUID(),
      serverUrl,
      status: "starting",
      authorizationUrl: null,
      error: null,
      createdAt: Date.now(),
    };
    this.items.set(item.id, item);
    while (this.items.size > KEEP) {
      const oldest = this.items.keys().next().value;
      if (oldest === undefined) break;
      this.items.delete(oldest);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(item), FIRST_STEP_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve(item);
      };
      let flow: Promise<void>;
      try {
        flow = this.authorize(serverUrl, {
          onAuthorizationUrl: (url) => {
            item.authorizationUrl = url;
            if (item.status === "starting") item.status = "awaiting_user";
            done();
          },
        });
      } catch (err) {
        flow = Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      flow.then(
        () => {
          item.status = "authorized";
          this.log(`mcp authorization for ${serverUrl} stored`);
          done();
        },
        (err: unknown) => {
          item.status = "failed";
          item.error = isEngineError(err)
            ? { code: err.code, message: err.message }
            : { code: "INTERNAL", message: "Authorization failed; see the server log." };
          this.log(
            `mcp authorization for ${serverUrl} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
          done();
        },
      );
    });
  }

  /** The attempt with this id, or null. */
  get(id: string): McpAuthorization | null {
    return this.items.get(id) ?? null;
  }
}

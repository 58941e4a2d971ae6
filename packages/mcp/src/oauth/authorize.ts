/**
 * The one interactive step: discover, register a public client with a loopback
 * redirect, hand the caller an authorization URL (PKCE S256, `state`, RFC 8707 `resource`), wait
 * for the browser to come back to `http://127.0.0.1:<port>/callback`, exchange the code and store
 * the grant. Never opens a browser itself. The loopback listener is always closed, also on failure.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpError } from "../errors.ts";
import type { FetchLike, TokenStore } from "../ports.ts";
import type { McpTokenEntry } from "../types.ts";
import { canonicalServerUrl } from "./canonical-url.ts";
import { discoverAuthorization } from "./discovery.ts";
import { createPkcePair, createState } from "./pkce.ts";
import { registerClient } from "./registration.ts";
import { exchangeAuthorizationCode } from "./token-endpoint.ts";

/** Options of {@link authorizeServer}. */
export interface AuthorizeServerOptions {
  /** Where the grant is stored, under the canonical server URL. */
  store: TokenStore;
  /** Receives the URL the user must open in a browser. */
  onAuthorizationUrl: (url: string) => void;
  /** How long to wait for the browser to come back, in ms. Default 300_000 (5 minutes). */
  timeoutMs?: number;
  fetch?: FetchLike;
  /** `client_name` of the registered client. Default `"Promenade"`. */
  clientName?: string;
  /** Page shown in the browser after a successful callback. */
  successHtml?: string;
  /** Aborting stops the wait (code `ABORTED`). */
  signal?: AbortSignal;
}

const DEFAULT_SUCCESS_HTML =
  "<!doctype html><meta charset=utf-8><title>Authorized</title><p>Authorized, you can close this tab.</p>";

interface Callback {
  code: string;
}

interface Listener {
  redirectUri: string;
  callback: Promise<Callback>;
  close: () => Promise<void>;
}

async function openListener(
  state: string,
  successHtml: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Listener> {
  let settle!: (outcome: Callback | McpError) => void;
  const callback = new Promise<Callback>((resolve, reject) => {
    let done = false;
    settle = (outcome) => {
      if (done) return;
      done = true;
      if (outcome instanceof McpError) reject(outcome);
      else resolve(outcome);
    };
  });
  // The flow awaits `callback` only after registration; keep an early rejection observed.
  callback.catch(() => undefined);

  const answer = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/callback") {
      answer(res, 404, "text/plain; charset=utf-8", "not found");
      return;
    }
    const error = url.searchParams.get("error");
    if (error) {
      const description = url.searchParams.get("error_description");
      answer(res, 400, "text/plain; charset=utf-8", `Authorization failed: ${error}`);
      settle(
        new McpError(
          "AUTHORIZATION_FAILED",
          `authorization was refused: ${error}${description ? ` (${description})` : ""}`,
          { hint: "run the authorization again and approve the request" },
        ),
      );
      return;
    }
    if (url.searchParams.get("state") !== state) {
      answer(res, 400, "text/plain; charset=utf-8", "Authorization failed: state mismatch");
      settle(
        new McpError("AUTHORIZATION_FAILED", "authorization callback rejected: state mismatch", {
          hint: "the callback did not come from this authorization request; start it again",
        }),
      );
      return;
    }
    const code = url.searchParams.get("code");
    if (!code) {
      answer(res, 400, "text/plain; charset=utf-8", "Authorization failed: missing code");
      settle(
        new McpError("AUTHORIZATION_FAILED", "authorization callback carried no code", {
          hint: "the authorization server redirected back without a code; start it again",
        }),
      );
      return;
    }
    answer(res, 200, "text/html; charset=utf-8", successHtml);
    settle({ code });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    throw new McpError(
      "INTERNAL",
      `cannot open the loopback listener for the OAuth callback: ${(error as Error).message}`,
      { hint: "allow listening on 127.0.0.1 (an ephemeral port)", cause: error },
    );
  });

  const timer = setTimeout(() => {
    settle(
      new McpError("TIMEOUT", `authorization timed out after ${Math.round(timeoutMs / 1000)}s`, {
        hint: "open the authorization URL sooner, or pass a larger timeoutMs",
      }),
    );
  }, timeoutMs);
  const onAbort = (): void =>
    settle(
      new McpError("ABORTED", "authorization was abandoned before the browser came back", {
        hint: "run the authorization again to finish it",
      }),
    );
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  server.once("close", onAbort);

  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    callback,
    close: async () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      server.off("close", onAbort);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Authorizes this machine against an OAuth-protected HTTP MCP server and stores the grant.
 * Throws `McpError`: `INVALID_URL`, `UNSUPPORTED` (no dynamic registration),
 * `AUTHORIZATION_FAILED` (`error=`, state mismatch, no code), `TIMEOUT`, `ABORTED`, `PROTOCOL`,
 * `HTTP_STATUS`, `UNREACHABLE`, `INTERNAL` (loopback listener).
 */
export async function authorizeServer(
  serverUrl: string,
  options: AuthorizeServerOptions,
): Promise<void> {
  const key = canonicalServerUrl(serverUrl);
  const io = options.fetch ? { fetch: options.fetch } : {};
  const discovery = await discoverAuthorization(serverUrl, io);
  const registrationEndpoint = discovery.registrationEndpoint;
  if (registrationEndpoint === undefined) {
    throw new McpError(
      "UNSUPPORTED",
      `the authorization server of ${key} does not support dynamic client registration`,
      {
        hint: "pre-provisioned OAuth clients are not supported; pass a token through the transport's headers instead",
      },
    );
  }
  const state = createState();
  const pkce = createPkcePair();
  const listener = await openListener(
    state,
    options.successHtml ?? DEFAULT_SUCCESS_HTML,
    options.timeoutMs ?? 300_000,
    options.signal,
  );
  try {
    const registration: { fetch?: FetchLike; clientName?: string } = { ...io };
    if (options.clientName !== undefined) registration.clientName = options.clientName;
    const clientId = await registerClient(registrationEndpoint, listener.redirectUri, registration);

    const authorizationUrl = new URL(discovery.authorizationEndpoint);
    const query = authorizationUrl.searchParams;
    query.set("response_type", "code");
    query.set("client_id", clientId);
    query.set("redirect_uri", listener.redirectUri);
    query.set("state", state);
    query.set("code_challenge", pkce.challenge);
    query.set("code_challenge_method", "S256");
    query.set("resource", discovery.resource);
    if (discovery.challengeScope !== undefined) query.set("scope", discovery.challengeScope);
    options.onAuthorizationUrl(authorizationUrl.href);

    const { code } = await listener.callback;
    const grant = await exchangeAuthorizationCode(
      {
        tokenEndpoint: discovery.tokenEndpoint,
        clientId,
        code,
        redirectUri: listener.redirectUri,
        codeVerifier: pkce.verifier,
        resource: discovery.resource,
      },
      io,
    );
    const entry: McpTokenEntry = {
      clientId,
      accessToken: grant.accessToken,
      tokenEndpoint: discovery.tokenEndpoint,
      resource: discovery.resource,
    };
    if (grant.refreshToken !== undefined) entry.refreshToken = grant.refreshToken;
    if (grant.expiresAt !== undefined) entry.expiresAt = grant.expiresAt;
    options.store.set(key, entry);
  } finally {
    await listener.close();
  }
}

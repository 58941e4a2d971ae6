/**
 * Token endpoint requests: the authorization-code exchange and the refresh grant,
 * form-encoded, with the RFC 8707 `resource`. Error messages name the grant type, status and
 * endpoint only: a token endpoint's error body may echo grant material.
 */
import { z } from "zod";
import { McpError } from "../errors.ts";
import type { FetchLike } from "../ports.ts";
import type { TokenGrant } from "../types.ts";
import { fetchJson } from "./http.ts";

/** I/O seams of the token calls. */
export interface TokenIo {
  fetch?: FetchLike;
  /** Epoch ms clock for `expiresAt`. Default `Date.now`. */
  now?: () => number;
}

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
});

async function tokenRequest(
  tokenEndpoint: string,
  form: Record<string, string>,
  io: TokenIo,
): Promise<TokenGrant> {
  const grantType = form["grant_type"] ?? "";
  const answer = await fetchJson(
    io.fetch ?? globalThis.fetch,
    tokenEndpoint,
    {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams(form).toString(),
    },
    "token endpoint",
  );
  if (!answer.ok) {
    throw new McpError(
      "HTTP_STATUS",
      `token request (grant_type=${grantType}) to ${tokenEndpoint} failed with status ${answer.status}`,
      {
        status: answer.status,
        hint:
          grantType === "refresh_token"
            ? "the refresh token was refused (revoked or expired); authorize the server again"
            : "the authorization code was refused; start the authorization again",
      },
    );
  }
  const parsed = tokenResponseSchema.safeParse(answer.body);
  if (!parsed.success) {
    throw new McpError(
      "PROTOCOL",
      `token response (grant_type=${grantType}) from ${tokenEndpoint} is malformed: it needs a non-empty access_token`,
      { hint: "the authorization server's token endpoint does not follow OAuth 2.1" },
    );
  }
  const grant: TokenGrant = { accessToken: parsed.data.access_token };
  if (parsed.data.refresh_token !== undefined) grant.refreshToken = parsed.data.refresh_token;
  if (parsed.data.expires_in !== undefined) {
    grant.expiresAt = (io.now ?? Date.now)() + Math.floor(parsed.data.expires_in * 1000);
  }
  return grant;
}

/** Exchanges an authorization code (PKCE) for tokens. Throws `HTTP_STATUS`, `UNREACHABLE`, `PROTOCOL`. */
export function exchangeAuthorizationCode(
  args: {
    tokenEndpoint: string;
    clientId: string;
    code: string;
    redirectUri: string;
    codeVerifier: string;
    resource: string;
  },
  io: TokenIo = {},
): Promise<TokenGrant> {
  return tokenRequest(
    args.tokenEndpoint,
    {
      grant_type: "authorization_code",
      client_id: args.clientId,
      code: args.code,
      redirect_uri: args.redirectUri,
      code_verifier: args.codeVerifier,
      resource: args.resource,
    },
    io,
  );
}

/** Runs the refresh grant. Throws `HTTP_STATUS`, `UNREACHABLE`, `PROTOCOL`. */
export function refreshAccessToken(
  args: { tokenEndpoint: string; clientId: string; refreshToken: string; resource?: string },
  io: TokenIo = {},
): Promise<TokenGrant> {
  const form: Record<string, string> = {
    grant_type: "refresh_token",
    client_id: args.clientId,
    refresh_token: args.refreshToken,
  };
  if (args.resource !== undefined) form["resource"] = args.resource;
  return tokenRequest(args.tokenEndpoint, form, io);
}

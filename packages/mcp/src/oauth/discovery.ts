/**
 * Authorization discovery for an HTTP MCP server: probe the server for its 401
 * challenge, find RFC 9728 protected-resource metadata (header hint, then well-known URLs), then
 * RFC 8414 authorization-server metadata with OpenID discovery as fallback. Every answer is
 * validated; metadata a server points at on another origin is refused, never followed.
 */
import { z } from "zod";
import { McpError } from "../errors.ts";
import type { FetchLike } from "../ports.ts";
import type { AuthorizationDiscovery } from "../types.ts";
import { parseBearerChallenge } from "./challenge.ts";
import { canonicalServerUrl, parseServerUrl, trimmedPath } from "./canonical-url.ts";
import { fetchJson, isJsonObject } from "./http.ts";

const resourceMetadataSchema = z.looseObject({
  resource: z.string().min(1).optional(),
  authorization_servers: z.array(z.string().min(1)).optional(),
  scopes_supported: z.array(z.string()).optional(),
});

const serverMetadataSchema = z.looseObject({
  issuer: z.string().min(1),
  authorization_endpoint: z.string().min(1),
  token_endpoint: z.string().min(1),
  registration_endpoint: z.string().min(1).optional(),
  scopes_supported: z.array(z.string()).optional(),
});

interface Probe {
  resourceMetadataUrl?: string;
  scope?: string;
}

async function probe(fetchImpl: FetchLike, serverUrl: string): Promise<Probe> {
  try {
    const response = await fetchImpl(serverUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "ping" }),
      redirect: "manual",
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 401) return {};
    const challenge = parseBearerChallenge(response.headers.get("www-authenticate") ?? "");
    const found: Probe = {};
    if (challenge["resource_metadata"]) found.resourceMetadataUrl = challenge["resource_metadata"];
    if (challenge["scope"]) found.scope = challenge["scope"];
    return found;
  } catch {
    // Probe failures are ignored: the well-known URLs are still tried.
    return {};
  }
}

function sameOrigin(a: string, b: URL): boolean {
  try {
    return new URL(a).origin === b.origin;
  } catch {
    return false;
  }
}

/**
 * Finds where and how to authorize against `serverUrl`. Throws `INVALID_URL`, `PROTOCOL`
 * (no usable authorization-server metadata; metadata on another origin) or `UNREACHABLE`.
 */
export async function discoverAuthorization(
  serverUrl: string,
  io: { fetch?: FetchLike } = {},
): Promise<AuthorizationDiscovery> {
  const fetchImpl = io.fetch ?? globalThis.fetch;
  const url = parseServerUrl(serverUrl);
  const canonical = canonicalServerUrl(serverUrl);
  const origin = url.origin;

  const probed = await probe(fetchImpl, url.href);
  if (probed.resourceMetadataUrl !== undefined && !sameOrigin(probed.resourceMetadataUrl, url)) {
    throw new McpError(
      "PROTOCOL",
      `MCP server ${canonical} points its resource_metadata at another origin (${probed.resourceMetadataUrl}); refusing to follow it`,
      {
        hint: "protected-resource metadata must be served from the MCP server's own origin (RFC 9728); check the server's WWW-Authenticate header",
      },
    );
  }

  const candidates = [
    probed.resourceMetadataUrl,
    `${origin}/.well-known/oauth-protected-resource${trimmedPath(url)}`,
    `${origin}/.well-known/oauth-protected-resource`,
  ].filter((candidate, index, all): candidate is string => {
    return candidate !== undefined && all.indexOf(candidate) === index;
  });

  let issuer = origin;
  let resource = canonical;
  let scopesSupported: string[] | undefined;
  for (const candidate of candidates) {
    let answer;
    try {
      answer = await fetchJson(
        fetchImpl,
        candidate,
        { headers: { accept: "application/json" } },
        "protected-resource metadata",
      );
    } catch {
      continue;
    }
    if (!answer.ok || !isJsonObject(answer.body)) continue;
    const parsed = resourceMetadataSchema.safeParse(answer.body);
    if (!parsed.success) continue;
    const metadata = parsed.data;
    if (metadata.resource !== undefined && !sameOrigin(metadata.resource, url)) {
      throw new McpError(
        "PROTOCOL",
        `protected-resource metadata at ${candidate} names resource ${metadata.resource}, which is not on ${origin}`,
        {
          hint: "the metadata must describe this MCP server (RFC 9728, section 3.3); check the server's configuration",
        },
      );
    }
    issuer = metadata.authorization_servers?.[0] ?? origin;
    resource = metadata.resource ?? canonical;
    scopesSupported = metadata.scopes_supported;
    break;
  }

  const server = await fetchServerMetadata(fetchImpl, issuer);
  const result: AuthorizationDiscovery = {
    authorizationEndpoint: server.authorization_endpoint,
    tokenEndpoint: server.token_endpoint,
    resource,
  };
  if (server.registration_endpoint !== undefined) {
    result.registrationEndpoint = server.registration_endpoint;
  }
  const scopes = scopesSupported ?? server.scopes_supported;
  if (scopes !== undefined) result.scopesSupported = scopes;
  if (probed.scope !== undefined) result.challengeScope = probed.scope;
  return result;
}

async function fetchServerMetadata(
  fetchImpl: FetchLike,
  issuer: string,
): Promise<z.infer<typeof serverMetadataSchema>> {
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new McpError(
      "PROTOCOL",
      `authorization-server metadata: issuer "${issuer}" is not a URL`,
      {
        hint: "the protected-resource metadata lists an invalid authorization server",
      },
    );
  }
  const path = trimmedPath(issuerUrl);
  const base = `${issuerUrl.origin}${path}`;
  const candidates = [
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`,
    `${issuerUrl.origin}/.well-known/openid-configuration${path}`,
    `${base}/.well-known/openid-configuration`,
  ].filter((candidate, index, all) => all.indexOf(candidate) === index);

  const problems: string[] = [];
  let lastNetworkError: Error | undefined;
  for (const candidate of candidates) {
    let answer;
    try {
      answer = await fetchJson(
        fetchImpl,
        candidate,
        { headers: { accept: "application/json" } },
        "authorization-server metadata",
      );
    } catch (error) {
      problems.push(`${candidate}: unreachable`);
      lastNetworkError = error as Error;
      continue;
    }
    if (!answer.ok) {
      problems.push(`${candidate}: ${answer.status}`);
      continue;
    }
    const parsed = serverMetadataSchema.safeParse(answer.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(
        `${candidate}: invalid (${issue ? `${issue.path.join(".")}: ${issue.message}` : "shape"})`,
      );
      continue;
    }
    // RFC 8414, section 3.3: the metadata must be about the issuer we were sent to (mix-up defence).
    if (parsed.data.issuer.replace(/\/+$/, "") !== issuer.replace(/\/+$/, "")) {
      problems.push(`${candidate}: issuer ${parsed.data.issuer} does not match`);
      continue;
    }
    return parsed.data;
  }
  if (problems.length === candidates.length && lastNetworkError !== undefined) {
    if (problems.every((problem) => problem.endsWith(": unreachable"))) throw lastNetworkError;
  }
  throw new McpError(
    "PROTOCOL",
    `no usable authorization-server metadata for issuer ${issuer} (${problems.join("; ")})`,
    {
      hint: "the authorization server publishes neither RFC 8414 nor OpenID discovery metadata; pass a token through the transport's headers instead",
    },
  );
}

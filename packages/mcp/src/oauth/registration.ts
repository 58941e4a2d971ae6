/**
 * RFC 7591 dynamic client registration as a public client with a loopback redirect. A new client
 * is registered for every interactive authorization.
 */
import { McpError } from "../errors.ts";
import type { FetchLike } from "../ports.ts";
import { fetchJson, isJsonObject } from "./http.ts";

/**
 * Registers a public client (`token_endpoint_auth_method: "none"`) and returns its `client_id`.
 * Throws `HTTP_STATUS`, `UNREACHABLE` or `PROTOCOL`.
 */
export async function registerClient(
  registrationEndpoint: string,
  redirectUri: string,
  io: { fetch?: FetchLike; clientName?: string } = {},
): Promise<string> {
  const answer = await fetchJson(
    io.fetch ?? globalThis.fetch,
    registrationEndpoint,
    {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        client_name: io.clientName ?? "Promenade",
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      }),
    },
    "client registration endpoint",
  );
  if (!answer.ok) {
    const body = isJsonObject(answer.body) ? answer.body : {};
    const reason = [body["error"], body["error_description"]]
      .filter((part): part is string => typeof part === "string")
      .join(": ");
    throw new McpError(
      "HTTP_STATUS",
      `client registration at ${registrationEndpoint} failed with status ${answer.status}${reason ? ` (${reason})` : ""}`,
      {
        status: answer.status,
        hint: "the authorization server refused dynamic registration of a public client with a loopback redirect",
      },
    );
  }
  const clientId = isJsonObject(answer.body) ? answer.body["client_id"] : undefined;
  if (typeof clientId !== "string" || clientId === "") {
    throw new McpError(
      "PROTOCOL",
      `client registration at ${registrationEndpoint} answered without a client_id`,
      { hint: "the authorization server's registration endpoint does not follow RFC 7591" },
    );
  }
  return clientId;
}

/**
 * The HTTP half of the thin client: one method per JSON API route the CLI uses, over `fetch`.
 * Every failure becomes a `CliError`: an unreachable server names the address and how to start
 * one; an API error keeps the server's `code`, `message` and `hint`; a 401 says where the token
 * comes from. The token travels only in the `Authorization` header and is never printed.
 * Starting a run sends an `Idempotency-Key` and retries a request cut by the network with the
 * same key, so a retry returns the run the first attempt created instead of starting a second.
 */
import { randomUUID } from "node:crypto";
import type { JsonValue } from "@promenade/workflow";
import { CliError } from "../errors.ts";
import type { ApiEventRow, ApiInputRequest, ApiRun, ApiWorkflow } from "./api-shapes.ts";
import type { ServerTarget } from "./target.ts";

/** `GET /api/runs` filters. */
export interface RunsQuery {
  workflow?: string | undefined;
  /** One status or a comma-separated list. */
  status?: string | undefined;
  limit?: number | undefined;
}

/** `POST /api/workflows` body. */
export interface DeployBody {
  program: string;
  filename: string;
  /** Inline skills: name → markdown placed in the agent's first message. */
  skills?: Record<string, string>;
  /** Folder skills: name → (path relative to the folder → text), `SKILL.md` among them. */
  skillFolders?: Record<string, Record<string, string>>;
  /** The workflow's AGENTS.md text. */
  agentsMd?: string;
  config?: Record<string, JsonValue>;
}

/** How many times `startRun` sends a request the network cut before giving up. */
export const START_ATTEMPTS = 3;

/** What `fetch` the client uses (tests may wrap the real one). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A client bound to one server. */
export class ApiClient {
  readonly target: ServerTarget;
  readonly #fetch: FetchLike;

  constructor(target: ServerTarget, fetchImpl: FetchLike = fetch) {
    this.target = target;
    this.#fetch = fetchImpl;
  }

  /** `GET /api/runs`. */
  listRuns(query: RunsQuery): Promise<{ runs: ApiRun[]; nextCursor: string | null }> {
    const params = new URLSearchParams();
    if (query.workflow !== undefined) params.set("workflow", query.workflow);
    if (query.status !== undefined) params.set("status", query.status);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    const search = params.size === 0 ? "" : `?${params.toString()}`;
    return this.request("GET", `/api/runs${search}`);
  }

  /** `GET /api/runs/:id`. */
  async getRun(runId: string): Promise<ApiRun> {
    const body = await this.request<{ run: ApiRun }>(
      "GET",
      `/api/runs/${encodeURIComponent(runId)}`,
    );
    return body.run;
  }

  /** `GET /api/runs/:id/events` (one page). */
  listEvents(
    runId: string,
    query: { after: number; channels?: string; verbose?: boolean },
  ): Promise<{ events: ApiEventRow[]; nextCursor: number | null; done: boolean }> {
    const params = new URLSearchParams({ after: String(query.after) });
    if (query.verbose === true) params.set("verbose", "true");
    else if (query.channels !== undefined) params.set("channels", query.channels);
    return this.request(
      "GET",
      `/api/runs/${encodeURIComponent(runId)}/events?${params.toString()}`,
    );
  }

  /** `GET /api/workflows`. */
  listWorkflows(): Promise<{ workflows: ApiWorkflow[] }> {
    return this.request("GET", "/api/workflows");
  }

  /**
   * `POST /api/workflows/:slug/runs`. `input` omitted = no input. A request that never got an
   * answer (connection refused, reset or cut) is sent again with the same `Idempotency-Key`, up
   * to {@link START_ATTEMPTS} times in all.
   */
  async startRun(slug: string, input: JsonValue | undefined): Promise<ApiRun> {
    const headers = { "idempotency-key": randomUUID() };
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await this.request<{ run: ApiRun }>(
          "POST",
          `/api/workflows/${encodeURIComponent(slug)}/runs`,
          input === undefined ? {} : { input },
          headers,
        );
        return body.run;
      } catch (error) {
        const cut = error instanceof CliError && error.code === "UNREACHABLE";
        if (!cut || attempt >= START_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  /** `POST /api/runs/:id/cancel`. */
  async cancelRun(runId: string): Promise<void> {
    await this.request("POST", `/api/runs/${encodeURIComponent(runId)}/cancel`, {});
  }

  /** `GET /api/inputs`: every pending request, newest first, with each request's run. */
  listPendingInputs(): Promise<{
    inputs: ApiInputRequest[];
    runs: Record<string, { workflowSlug: string | null; status: string }>;
  }> {
    return this.request("GET", "/api/inputs");
  }

  /** `GET /api/runs/:id/inputs`: every request of one run, any status. */
  listRunInputs(runId: string): Promise<{ inputs: ApiInputRequest[] }> {
    return this.request("GET", `/api/runs/${encodeURIComponent(runId)}/inputs`);
  }

  /** `POST /api/runs/:id/inputs/:key` with `{ value: answer }`: answer one pending request. */
  respondToInput(
    runId: string,
    key: string,
    answer: JsonValue,
  ): Promise<{ request: ApiInputRequest }> {
    return this.request(
      "POST",
      `/api/runs/${encodeURIComponent(runId)}/inputs/${encodeURIComponent(key)}`,
      { value: answer },
    );
  }

  /** `POST /api/workflows`. */
  deploy(body: DeployBody): Promise<{ workflow: ApiWorkflow; created: boolean }> {
    return this.request("POST", "/api/workflows", body);
  }

  /** `DELETE /api/workflows/:slug`: the undeployed workflow (its runs are kept). */
  undeploy(slug: string): Promise<{ workflow: ApiWorkflow & { undeployedAt: number } }> {
    return this.request("DELETE", `/api/workflows/${encodeURIComponent(slug)}`);
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const url = `${this.target.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
    if (this.target.token !== undefined) headers["authorization"] = `Bearer ${this.target.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw unreachable(this.target.baseUrl, error);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return parsed as T;
    throw apiFailure(response.status, parsed, this.target);
  }
}

/** A connection failure, named with the address and how to start a server. */
export function unreachable(baseUrl: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail =
    typeof cause?.code === "string"
      ? cause.code
      : typeof cause?.message === "string"
        ? cause.message
        : error instanceof Error
          ? error.message
          : String(error);
  return new CliError(`cannot reach a Promenade server at ${baseUrl} (${detail}).`, {
    code: "UNREACHABLE",
    hint: "Start one with `promenade server` (or `promenade dev`), or point --url / PROMENADE_URL at it.",
  });
}

/** An HTTP error response → `CliError` with the server's code, message and hint. */
export function apiFailure(status: number, body: unknown, target: ServerTarget): CliError {
  const error = (body as { error?: { code?: unknown; message?: unknown; hint?: unknown } })?.error;
  const code = typeof error?.code === "string" ? error.code : `HTTP_${status}`;
  const message =
    typeof error?.message === "string"
      ? error.message
      : `the server answered HTTP ${status} without an error body.`;
  let hint = typeof error?.hint === "string" ? error.hint : undefined;
  if (status === 401) {
    hint =
      target.token === undefined
        ? "This server requires an API token: pass --token or set PROMENADE_API_TOKEN."
        : "The token was refused: check --token / PROMENADE_API_TOKEN against the server's PROMENADE_API_TOKEN.";
  }
  return new CliError(`${code}: ${message}`, { code, hint });
}

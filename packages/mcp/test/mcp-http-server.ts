/**
 * An in-process streamable-HTTP MCP server on 127.0.0.1 built from the official SDK
 * (`StreamableHTTPServerTransport` + low-level `Server`), in JSON or SSE response mode, stateful
 * or stateless. The app glue around the SDK is what the SDK's own examples do: route by
 * `mcp-session-id`, answer 404 for sessions it no longer knows, and optionally guard with a
 * bearer check. It records every HTTP request so tests can assert on headers.
 */
import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

/** One recorded HTTP request. */
export interface RecordedRequest {
  method: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

/** Options of {@link startMcpHttpServer}. */
export interface McpHttpServerOptions {
  /** JSON responses instead of SSE. Default false (SSE). */
  json?: boolean;
  /** Issue and require session ids. Default true. */
  stateful?: boolean;
  /** Paginate tools/list with this page size. */
  pageSize?: number;
  /** Number of extra tools `extra_<i>`. */
  extraTools?: number;
  /** Return the 401 response for this request, or null to let it through. */
  authorize?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** Extra routes handled before MCP (e.g. protected-resource metadata). */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Mount path of the MCP endpoint. Default `/mcp`. */
  path?: string;
}

/** A running server. */
export interface McpHttpServer {
  url: string;
  origin: string;
  requests: RecordedRequest[];
  cancellations: { requestId: unknown; reason: unknown }[];
  toolCalls: { name: string; authorization: string | undefined }[];
  /** Forget every session, as a server restart or a session timeout would. */
  expireSessions(): Promise<void>;
  close(): Promise<void>;
}

function buildMcpServer(
  options: McpHttpServerOptions,
  state: {
    http: HttpServer | null;
    cancellations: McpHttpServer["cancellations"];
    toolCalls: McpHttpServer["toolCalls"];
  },
): Server {
  const server = new Server(
    { name: "fixture-http", version: "2.0.0" },
    { capabilities: { tools: {} } },
  );
  const tools = [
    { name: "echo", description: "Echoes text", inputSchema: { type: "object" } },
    { name: "fail", inputSchema: { type: "object" } },
    { name: "hang", inputSchema: { type: "object" } },
    { name: "crash", inputSchema: { type: "object" } },
    { name: "whoami", inputSchema: { type: "object" } },
    ...Array.from({ length: options.extraTools ?? 0 }, (_, i) => ({ name: `extra_${i}` })),
  ];
  server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const size = options.pageSize ?? 0;
    if (size <= 0) return { tools };
    const start = Number(request.params?.cursor ?? "0");
    const next = start + size;
    return {
      tools: tools.slice(start, next),
      ...(next < tools.length ? { nextCursor: String(next) } : {}),
    };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = request.params.arguments ?? {};
    const authorization = extra.requestInfo?.headers["authorization"];
    state.toolCalls.push({
      name: request.params.name,
      authorization: typeof authorization === "string" ? authorization : undefined,
    });
    switch (request.params.name) {
      case "echo":
        return {
          content: [
            { type: "text", text: `echo: ${typeof args["text"] === "string" ? args["text"] : ""}` },
          ],
        };
      case "fail":
        return { content: [{ type: "text", text: "it broke" }], isError: true };
      case "whoami":
        return { content: [{ type: "text", text: String(authorization ?? "anonymous") }] };
      case "hang":
        return await new Promise((_, reject) => {
          // The cancellation may already have arrived before this handler ran.
          const onAbort = (): void => {
            state.cancellations.push({ requestId: extra.requestId, reason: extra.signal.reason });
            reject(new Error("cancelled"));
          };
          if (extra.signal.aborted) onAbort();
          else extra.signal.addEventListener("abort", onAbort);
        });
      case "crash":
        // Drops every connection mid-call, as a crashing server process would.
        state.http?.closeAllConnections();
        return await new Promise(() => undefined);
      default:
        return { content: [{ type: "text", text: "unknown tool" }], isError: true };
    }
  });
  return server;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Starts the server on an ephemeral 127.0.0.1 port. */
export async function startMcpHttpServer(
  options: McpHttpServerOptions = {},
): Promise<McpHttpServer> {
  const path = options.path ?? "/mcp";
  const stateful = options.stateful ?? true;
  const requests: RecordedRequest[] = [];
  const cancellations: McpHttpServer["cancellations"] = [];
  const toolCalls: McpHttpServer["toolCalls"] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const state = { http: null as HttpServer | null, cancellations, toolCalls };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.routes?.(req, res)) return;
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const body = req.method === "POST" ? await readBody(req) : undefined;
    requests.push({ method: req.method ?? "", headers: req.headers, body });
    if (options.authorize && !(await options.authorize(req, res))) return;

    const sessionHeader = req.headers["mcp-session-id"];
    const sessionId = typeof sessionHeader === "string" ? sessionHeader : undefined;
    let transport: StreamableHTTPServerTransport | undefined;
    if (!stateful) {
      transport = new StreamableHTTPServerTransport({
        // No sessionIdGenerator: stateless mode.
        enableJsonResponse: options.json ?? false,
      });
      await buildMcpServer(options, state).connect(transport);
      res.on("close", () => void transport?.close());
    } else if (sessionId !== undefined) {
      transport = sessions.get(sessionId);
      if (!transport) {
        res.writeHead(404, { "content-type": "application/json" }).end(
          JSON.stringify({
            jsonrpc: "2.0",
            error: { code: -32001, message: "Session not found" },
            id: null,
          }),
        );
        return;
      }
    } else {
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.json ?? false,
        onsessioninitialized: (id) => {
          sessions.set(id, created);
        },
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      await buildMcpServer(options, state).connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  state.http = http;
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}${path}`,
    origin,
    requests,
    cancellations,
    toolCalls,
    async expireSessions() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((transport) => transport.close()));
    },
    async close() {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((transport) => transport.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

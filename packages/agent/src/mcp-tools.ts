/**
 * MCP servers as a tool source of the loop: strict validation of inline refs,
 * sequential connect + list, tools advertised as `<server>__<tool>` (minus the ref's
 * `excludeTools`, which are neither offered nor callable), calls routed with the
 * original name, results flattened, `isError` and every `McpError` mapped to `PROVIDER_ERROR`
 * (tool-level during the loop, leaf-fatal while connecting), OAuth tokens fetched through the
 * host's broker and registered with the redactor. Teardown closes every connection, swallowing
 * errors; stdio servers still alive when the process exits are killed from an `exit` handler.
 * `@promenade/mcp` (and zod with it) is loaded on first use, so leaves without MCP never pay.
 */
import type * as Mcp from "@promenade/mcp";
import type { McpAuthProvider, McpTransport, StdioTransport } from "@promenade/mcp";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import type { AgentHost, McpServerRef } from "./ports.ts";
import type { AgentTool } from "./tools.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const SHAPES_HINT =
  'Use { name, transport: "stdio", command, args?, env?, excludeTools? } or { name, transport: "http", url: "https://…", headers?, excludeTools? }; name matches ^[A-Za-z0-9][A-Za-z0-9_-]*$.';

/** One connected server: its namespaced tools and its teardown. */
export interface McpConnection {
  name: string;
  tools: AgentTool[];
  close(): Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): boolean {
  return isRecord(value) && Object.values(value).every((v) => typeof v === "string");
}

function malformed(ref: unknown, problem: string): EngineError {
  const name = isRecord(ref) && typeof ref.name === "string" ? ` "${ref.name}"` : "";
  return new EngineError(
    "VALIDATION",
    `agent() has a malformed MCP server ref${name}: ${problem}.`,
    SHAPES_HINT,
  );
}

/**
 * Validates the `mcp` option: strict shapes, then duplicate names.
 * @throws EngineError `VALIDATION` (`malformed MCP server ref` / `Duplicate MCP server name`).
 */
export function validateMcpRefs(refs: unknown): McpServerRef[] {
  if (refs === undefined) return [];
  if (!Array.isArray(refs)) throw malformed(undefined, "mcp must be an array");
  const seen = new Set<string>();
  for (const ref of refs as unknown[]) {
    if (!isRecord(ref)) throw malformed(ref, "each entry must be an object");
    if (typeof ref.name !== "string" || !NAME.test(ref.name)) {
      throw malformed(
        ref,
        `name ${JSON.stringify(ref.name)} must match ^[A-Za-z0-9][A-Za-z0-9_-]*$`,
      );
    }
    if (ref.transport === "stdio") {
      for (const key of Object.keys(ref)) {
        if (!["name", "transport", "command", "args", "env", "excludeTools"].includes(key)) {
          throw malformed(ref, `unknown key "${key}" for a stdio server`);
        }
      }
      if (typeof ref.command !== "string" || ref.command === "") {
        throw malformed(ref, "command must be a non-empty string");
      }
      if (
        ref.args !== undefined &&
        !(Array.isArray(ref.args) && ref.args.every((a) => typeof a === "string"))
      ) {
        throw malformed(ref, "args must be an array of strings");
      }
      if (ref.env !== undefined && !isStringMap(ref.env))
        throw malformed(ref, "env must map names to strings");
    } else if (ref.transport === "http") {
      for (const key of Object.keys(ref)) {
        if (!["name", "transport", "url", "headers", "excludeTools"].includes(key)) {
          throw malformed(ref, `unknown key "${key}" for an http server`);
        }
      }
      if (typeof ref.url !== "string" || !/^https?:\/\//.test(ref.url)) {
        throw malformed(ref, `url ${JSON.stringify(ref.url)} must start with http:// or https://`);
      }
      if (ref.headers !== undefined && !isStringMap(ref.headers)) {
        throw malformed(ref, "headers must map names to strings");
      }
    } else {
      throw malformed(ref, `transport ${JSON.stringify(ref.transport)} must be "stdio" or "http"`);
    }
    if (
      ref.excludeTools !== undefined &&
      !(
        Array.isArray(ref.excludeTools) &&
        ref.excludeTools.every((t: unknown) => typeof t === "string")
      )
    ) {
      throw malformed(ref, "excludeTools must be an array of tool names");
    }
    if (seen.has(ref.name)) {
      throw new EngineError(
        "VALIDATION",
        `agent() has a Duplicate MCP server name "${ref.name}".`,
        "Give every MCP server of one agent() call a distinct name.",
      );
    }
    seen.add(ref.name);
  }
  return refs as McpServerRef[];
}

type McpModule = typeof Mcp;
let mcpModule: Promise<McpModule> | undefined;
const loadMcp = (): Promise<McpModule> => (mcpModule ??= import("@promenade/mcp"));

/** Maps an `McpError` (or anything else) to `PROVIDER_ERROR`, keeping message and hint. */
export function toProviderError(err: unknown, context?: string): EngineError {
  if (isEngineError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const maybeHint = isRecord(err) ? err.hint : undefined;
  const hint = typeof maybeHint === "string" ? maybeHint : undefined;
  return new EngineError(
    "PROVIDER_ERROR",
    context === undefined ? message : `${context}: ${message}`,
    hint,
  );
}

const liveStdio = new Set<StdioTransport>();
let exitHookInstalled = false;

function trackStdio(transport: StdioTransport): void {
  liveStdio.add(transport);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // No SIGTERM handler on purpose: it would keep SIGTERM from ending the run process at once.
    process.once("exit", () => {
      for (const live of liveStdio) {
        if (live.pid !== undefined) {
          try {
            process.kill(live.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    });
  }
}

function transportFor(mcp: McpModule, ref: McpServerRef, host: AgentHost): McpTransport {
  const { McpError, StdioTransport, StreamableHttpTransport } = mcp;
  if (ref.transport === "stdio") {
    const options: ConstructorParameters<McpModule["StdioTransport"]>[0] = {
      command: ref.command,
      label: ref.name,
    };
    if (ref.args !== undefined) options.args = ref.args;
    if (ref.env !== undefined) options.env = ref.env;
    const transport = new StdioTransport(options);
    trackStdio(transport);
    return transport;
  }
  const auth: McpAuthProvider = {
    async getAccessToken({ failedToken }) {
      const granted = await host.mcpToken(ref.url, failedToken ?? undefined);
      if (granted.accessToken === null) {
        // An McpError passes through the transport unchanged, keeping the broker's hint.
        throw new McpError(
          "AUTH_REQUIRED",
          `MCP server "${ref.name}" requires OAuth authorization (${ref.url}).`,
          {
            label: ref.name,
            hint:
              granted.hint ??
              `Run engine.authorizeMcpServer("${ref.url}") once, then start the run again.`,
          },
        );
      }
      host.redactor.add(`mcp:${ref.name}`, granted.accessToken);
      return granted.accessToken;
    },
  };
  const options: ConstructorParameters<McpModule["StreamableHttpTransport"]>[0] = {
    url: ref.url,
    auth,
    label: ref.name,
  };
  if (ref.headers !== undefined) options.headers = ref.headers;
  if (host.fetch !== undefined) options.fetch = host.fetch;
  return new StreamableHttpTransport(options);
}

async function connectOne(ref: McpServerRef, host: AgentHost): Promise<McpConnection> {
  const mcp = await loadMcp();
  const { McpClient, StdioTransport, flattenToolContent } = mcp;
  const transport = transportFor(mcp, ref, host);
  const client = new McpClient(transport, { label: ref.name });
  const close = async (): Promise<void> => {
    try {
      await client.close();
    } catch {
      // teardown errors are swallowed: the call's outcome is already decided
    }
    if (transport instanceof StdioTransport) liveStdio.delete(transport);
  };
  try {
    await client.connect();
    const excluded = new Set(ref.excludeTools ?? []);
    const listed = (await client.listAllTools()).filter((tool) => !excluded.has(tool.name));
    const tools: AgentTool[] = listed.map((tool) => ({
      spec: {
        name: `${ref.name}__${tool.name}`,
        description: tool.description,
        inputSchema: tool.inputSchema,
      },
      async execute(input) {
        let result;
        try {
          result = await client.callTool(tool.name, input);
        } catch (err) {
          throw toProviderError(err);
        }
        const text = flattenToolContent(result);
        if (result.isError) {
          throw new EngineError(
            "PROVIDER_ERROR",
            text !== ""
              ? text
              : `MCP tool "${tool.name}" on server "${ref.name}" reported an error with no content.`,
          );
        }
        return text;
      },
    }));
    return { name: ref.name, tools, close };
  } catch (err) {
    await close();
    if (isEngineError(err)) throw err;
    const mapped = toProviderError(err);
    throw new EngineError(
      "PROVIDER_ERROR",
      mapped.message.includes(`"${ref.name}"`)
        ? mapped.message
        : `MCP server "${ref.name}" failed to connect: ${mapped.message}`,
      mapped.hint,
    );
  }
}

/**
 * Connects each server sequentially in array order (initialize + list all tools). Any failure
 * closes the ones already opened and rejects.
 * @throws EngineError `PROVIDER_ERROR` naming the server.
 */
export async function connectMcpServers(
  refs: readonly McpServerRef[],
  host: AgentHost,
): Promise<McpConnection[]> {
  const open: McpConnection[] = [];
  for (const ref of refs) {
    try {
      open.push(await connectOne(ref, host));
    } catch (err) {
      await closeAll(open);
      throw err;
    }
  }
  return open;
}

/** Closes every connection in order, swallowing errors. */
export async function closeAll(connections: readonly McpConnection[]): Promise<void> {
  for (const connection of connections) await connection.close();
}

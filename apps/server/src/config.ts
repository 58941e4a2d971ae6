/**
 * `PROMENADE_*` environment → server and engine options. The only code in server
 * mode that interprets the environment; it runs once, at boot. Invariants: empty string = unset;
 * a legacy `BOARDWALK_*` name is used only when the `PROMENADE_*` one is unset, with one notice;
 * error messages name variables and JSON paths, never values.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseProvidersJson, parseRateTable } from "@promenade/agent";
import type { RateTable } from "@promenade/agent";
import { parseRetentionPolicy } from "@promenade/engine";
import type { InferenceConfig } from "@promenade/engine";
import { isEngineError } from "@promenade/workflow/errors";
import { API_TOKEN_MIN_LENGTH, DEFAULT_PORT, isLoopbackHost } from "@promenade/server";

/** A boot error: printed as `promenade-server: <message>` and `  hint: <hint>`, exit 1. */
export class BootError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "BootError";
    this.hint = hint;
  }
}

/** Everything the binary needs, resolved. */
export interface ServerConfig {
  /** Absolute. */
  dataDir: string;
  /** Absolute: where run working directories live (`dataDir` unless set apart). */
  workDir: string;
  /** `postgres://…` keeps runs, events and workflows in PostgreSQL; `undefined`: SQLite in `dataDir`. */
  databaseUrl: string | undefined;
  /** Absolute. */
  workflowsDir: string;
  /** True when set by a variable (a missing one is then reported). */
  workflowsDirExplicit: boolean;
  /** `PROMENADE_WATCH`: redeploy the workflows dir's files when they change. */
  watch: boolean;
  host: string;
  port: number;
  apiToken: string | undefined;
  deployApi: boolean;
  /** `PROMENADE_AGENT_BUILTINS`: the ceiling on the agent's built-in tools. */
  agentBuiltins: "all" | "read-only" | "none";
  /** `PROMENADE_WEB_SEARCH_URL`: the agent's `web_search` backend, or `undefined` (no tool). */
  webSearchUrl: string | undefined;
  allowedOrigins: string[];
  /** Absolute path of the dotenv file in use, or null. */
  envFile: string | null;
  inference: InferenceConfig;
  /** `PROMENADE_RETENTION` as written (checked), or `undefined`: keep everything. */
  retention: string | undefined;
  /** `config: using legacy …` lines, printed before anything else. */
  notices: string[];
  /**
   * `PROMENADE_CLUSTER=1`: this server is one node of a cluster sharing the PostgreSQL database
   * (`PROMENADE_NODE_ID`, `PROMENADE_LEASE_MS`, `PROMENADE_DRAIN_GRACE_MS`); `null` otherwise.
   */
  cluster: { nodeId: string | undefined; leaseMs: number; drainGraceMs: number } | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Read a variable with its legacy fallback; records the notice. */
function reader(env: Env, notices: string[]) {
  return (name: string, legacy?: string): string | undefined => {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
    if (legacy === undefined) return undefined;
    const old = env[legacy];
    if (old !== undefined && old !== "") {
      notices.push(`config: using legacy ${legacy} (set ${name} instead)`);
      return old;
    }
    return undefined;
  };
}

const PROVIDERS_HINT =
  'Example: PROMENADE_PROVIDERS=\'{"groq":{"base_url":"https://api.groq.com/openai/v1","api_key_env":"GROQ_API_KEY"}}\'';

function parseJsonVar(name: string, raw: string, hint: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new BootError(`${name} is not valid JSON.`, hint);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `PROMENADE_PROVIDERS`, checked by the agent's own provider validator (the one the engine
 * applies), so the binary accepts exactly what the engine supports. Errors name JSON paths,
 * never values.
 */
function parseProviders(raw: string): NonNullable<InferenceConfig["providers"]> {
  try {
    return parseProvidersJson(raw, "PROMENADE_PROVIDERS");
  } catch (err) {
    if (!isEngineError(err)) throw err;
    throw new BootError(err.message, err.hint ?? PROVIDERS_HINT);
  }
}

const RATE_KEYS = [
  "match",
  "in_usd_per_mtok",
  "out_usd_per_mtok",
  "cache_read_usd_per_mtok",
  "cache_write_usd_per_mtok",
];

function parseRates(raw: string): NonNullable<InferenceConfig["rates"]> {
  const hint =
    'Example: PROMENADE_RATES=\'[{"match":"my-model*","in_usd_per_mtok":1,"out_usd_per_mtok":2}]\'';
  const value = parseJsonVar("PROMENADE_RATES", raw, hint);
  if (!Array.isArray(value))
    throw new BootError("PROMENADE_RATES must be a JSON array of rate overrides.", hint);
  return value.map((item, i) => {
    if (
      !isObject(item) ||
      typeof item["match"] !== "string" ||
      typeof item["in_usd_per_mtok"] !== "number" ||
      typeof item["out_usd_per_mtok"] !== "number" ||
      Object.keys(item).some((key) => !RATE_KEYS.includes(key)) ||
      (item["cache_read_usd_per_mtok"] !== undefined &&
        typeof item["cache_read_usd_per_mtok"] !== "number") ||
      (item["cache_write_usd_per_mtok"] !== undefined &&
        typeof item["cache_write_usd_per_mtok"] !== "number")
    ) {
      throw new BootError(
        `PROMENADE_RATES: [${i}] must be { match, in_usd_per_mtok, out_usd_per_mtok, cache_read_usd_per_mtok?, cache_write_usd_per_mtok? }.`,
        hint,
      );
    }
    return item as unknown as NonNullable<InferenceConfig["rates"]>[number];
  });
}

const RATES_FILE_HINT =
  'The file is a rate table like @promenade/agent\'s rates/rates.json: { "version": "2025-06-01", "models": [{ "match": "llama", "in_usd_per_mtok": 0, "out_usd_per_mtok": 0 }] }.';

/**
 * `PROMENADE_RATES_FILE`: an operator rate table, read and checked at boot. Errors name the file
 * and the bad row (never a value of the environment).
 */
function readRatesFile(path: string): RateTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new BootError(
      `PROMENADE_RATES_FILE points at ${path}, which cannot be read (${code}).`,
      "Fix the path or unset PROMENADE_RATES_FILE to use the shipped rate table.",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new BootError(
      `PROMENADE_RATES_FILE: ${path} is not valid JSON (${(err as Error).message}).`,
      RATES_FILE_HINT,
    );
  }
  try {
    return parseRateTable(value, path);
  } catch (err) {
    if (!isEngineError(err)) throw err;
    throw new BootError(`PROMENADE_RATES_FILE: ${err.message}`, err.hint ?? RATES_FILE_HINT);
  }
}

/**
 * `PROMENADE_DATABASE_URL`: a `postgres://` or `postgresql://` URL, or unset. Checks the scheme
 * only (the engine reports everything else, once it tries to connect); never echoes the value,
 * which holds a password.
 */
function parseDatabaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//i.test(raw)) {
    // One line: what is wrong and the fix.
    throw new BootError(
      "PROMENADE_DATABASE_URL must start with postgres:// or postgresql://: set it to postgres://user:password@host:5432/database, or unset it to keep SQLite in the data dir.",
    );
  }
  return raw;
}

/**
 * Parse the environment. `cwd` resolves relative paths. Throws `BootError` naming the variable
 * (and, for JSON, the path) of the first bad value.
 */
export function parseConfig(env: Env, cwd: string): ServerConfig {
  const notices: string[] = [];
  const get = reader(env, notices);
  const inDocker = get("PROMENADE_IN_DOCKER", "BOARDWALK_IN_DOCKER") === "1";
  const dataDir = resolve(
    cwd,
    get("PROMENADE_DATA_DIR", "BOARDWALK_DATA_DIR") ?? (inDocker ? "/data" : "./promenade-data"),
  );
  const workRaw = get("PROMENADE_WORK_DIR");
  const workDir = workRaw === undefined ? dataDir : resolve(cwd, workRaw);
  const workflowsRaw = get("PROMENADE_WORKFLOWS_DIR", "BOARDWALK_WORKFLOWS_DIR");
  const databaseUrl = parseDatabaseUrl(get("PROMENADE_DATABASE_URL"));
  const host = get("PROMENADE_HOST", "BOARDWALK_HOST") ?? (inDocker ? "0.0.0.0" : "127.0.0.1");

  const portRaw = get("PROMENADE_PORT", "BOARDWALK_PORT");
  let port = DEFAULT_PORT;
  if (portRaw !== undefined) {
    if (!/^\d{1,5}$/.test(portRaw) || Number(portRaw) > 65535) {
      throw new BootError(
        `PROMENADE_PORT must be an integer between 0 and 65535, got "${portRaw}".`,
        "Unset PROMENADE_PORT to use the default (8080); 0 binds an ephemeral port.",
      );
    }
    port = Number(portRaw);
  }

  const apiToken = get("PROMENADE_API_TOKEN");
  if (apiToken !== undefined && apiToken.length < API_TOKEN_MIN_LENGTH) {
    throw new BootError(
      `PROMENADE_API_TOKEN must be at least ${API_TOKEN_MIN_LENGTH} characters.`,
      "Generate one with: openssl rand -hex 32",
    );
  }
  if (apiToken === undefined && !isLoopbackHost(host)) {
    throw new BootError(
      `refusing to listen on ${host} without PROMENADE_API_TOKEN — anyone who can reach it could deploy and run code.`,
      "Set PROMENADE_API_TOKEN (openssl rand -hex 32), or bind to 127.0.0.1.",
    );
  }

  const deployRaw = get("PROMENADE_API_DEPLOY") ?? "1";
  if (!["1", "0", "true", "false"].includes(deployRaw)) {
    throw new BootError(
      `PROMENADE_API_DEPLOY must be 1, 0, true or false, got "${deployRaw}".`,
      "Unset it to allow deploys over the API.",
    );
  }

  const watchRaw = get("PROMENADE_WATCH") ?? "0";
  if (!["1", "0", "true", "false"].includes(watchRaw)) {
    throw new BootError(
      `PROMENADE_WATCH must be 1, 0, true or false, got "${watchRaw}".`,
      "Set it to 1 to redeploy workflow files when they are saved, or unset it.",
    );
  }

  const agentBuiltins = get("PROMENADE_AGENT_BUILTINS") ?? "all";
  if (agentBuiltins !== "all" && agentBuiltins !== "read-only" && agentBuiltins !== "none") {
    throw new BootError(
      `PROMENADE_AGENT_BUILTINS must be all, read-only or none, got "${agentBuiltins}".`,
      "Unset it to give agents every built-in tool.",
    );
  }

  const webSearchUrl = get("PROMENADE_WEB_SEARCH_URL");
  if (webSearchUrl !== undefined && !/^https?:\/\/[^/]/.test(webSearchUrl)) {
    throw new BootError(
      "PROMENADE_WEB_SEARCH_URL must be an http or https URL.",
      "Point it at a search endpoint answering GET ?q=&limit= with { results: [...] }, or unset it.",
    );
  }

  const allowedOrigins: string[] = [];
  const originsRaw = get("PROMENADE_ALLOWED_ORIGINS");
  if (originsRaw !== undefined) {
    for (const item of originsRaw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")) {
      let ok = false;
      try {
        const url = new URL(item);
        ok = (url.protocol === "http:" || url.protocol === "https:") && url.origin === item;
      } catch {
        ok = false;
      }
      if (!ok) {
        throw new BootError(
          `PROMENADE_ALLOWED_ORIGINS has a malformed entry "${item}".`,
          "List exact origins like https://promenade.example.com (scheme://host[:port], no path).",
        );
      }
      allowedOrigins.push(item);
    }
  }

  const inference: InferenceConfig = {};
  const defaultProvider = get("PROMENADE_DEFAULT_PROVIDER");
  if (defaultProvider !== undefined) inference.default_provider = defaultProvider;
  const defaultModel = get("PROMENADE_DEFAULT_MODEL", "BOARDWALK_DEFAULT_MODEL");
  if (defaultModel !== undefined) inference.default_model = defaultModel;
  const providers = get("PROMENADE_PROVIDERS", "BOARDWALK_PROVIDERS");
  if (providers !== undefined) inference.providers = parseProviders(providers);
  const managed = get("PROMENADE_MANAGED_URL", "BOARDWALK_INFERENCE_URL");
  if (managed !== undefined) inference.managed = { base_url: managed };
  const rates = get("PROMENADE_RATES");
  if (rates !== undefined) inference.rates = parseRates(rates);
  const ratesFile = get("PROMENADE_RATES_FILE");
  if (ratesFile !== undefined) inference.rate_table = readRatesFile(resolve(cwd, ratesFile));
  const timeout = get("PROMENADE_PROVIDER_TIMEOUT_MS");
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
      throw new BootError(
        `PROMENADE_PROVIDER_TIMEOUT_MS must be a positive integer, got "${timeout}".`,
        "Unset it to use the provider default.",
      );
    }
    inference.request_timeout_ms = Number(timeout);
  }

  const envFileRaw = get("PROMENADE_ENV_FILE", "BOARDWALK_ENV_FILE");
  let envFile: string | null = null;
  if (envFileRaw !== undefined) {
    envFile = resolve(cwd, envFileRaw);
    if (!existsSync(envFile)) {
      throw new BootError(
        `PROMENADE_ENV_FILE points at ${envFile}, which does not exist.`,
        "Create the file or unset PROMENADE_ENV_FILE.",
      );
    }
  } else if (existsSync(join(dataDir, ".env"))) {
    envFile = join(dataDir, ".env");
  }

  const retention = get("PROMENADE_RETENTION");
  if (retention !== undefined) {
    try {
      parseRetentionPolicy(retention, "PROMENADE_RETENTION");
    } catch (err) {
      if (!isEngineError(err)) throw err;
      throw new BootError(err.message, err.hint);
    }
  }

  const cluster = parseCluster(get, databaseUrl);

  return {
    cluster,
    dataDir,
    workDir,
    databaseUrl,
    workflowsDir:
      workflowsRaw === undefined ? join(dataDir, "workflows") : resolve(cwd, workflowsRaw),
    workflowsDirExplicit: workflowsRaw !== undefined,
    watch: watchRaw === "1" || watchRaw === "true",
    host,
    port,
    apiToken,
    deployApi: deployRaw === "1" || deployRaw === "true",
    agentBuiltins,
    webSearchUrl,
    allowedOrigins,
    envFile,
    inference,
    retention,
    notices,
  };
}

function parseCluster(
  get: (name: string) => string | undefined,
  databaseUrl: string | undefined,
): ServerConfig["cluster"] {
  const raw = get("PROMENADE_CLUSTER") ?? "0";
  if (!["1", "0", "true", "false"].includes(raw)) {
    throw new BootError(
      `PROMENADE_CLUSTER must be 1, 0, true or false, got "${raw}".`,
      "Set it to 1 to run this server as one node of a cluster on PostgreSQL, or unset it.",
    );
  }
  if (raw === "0" || raw === "false") return null;
  if (databaseUrl === undefined) {
    throw new BootError(
      "PROMENADE_CLUSTER=1 needs PostgreSQL: the nodes of a cluster share one database.",
      "Set PROMENADE_DATABASE_URL=postgres://user:password@host:5432/database on every node, or unset PROMENADE_CLUSTER.",
    );
  }
  const ms = (name: string, fallback: number, min: number): number => {
    const value = get(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new BootError(
        `${name} must be an integer of at least ${String(min)} (ms), got "${value}".`,
        `Unset it for the default (${String(fallback)}).`,
      );
    }
    return Number(value);
  };
  const nodeId = get("PROMENADE_NODE_ID");
  if (nodeId !== undefined && nodeId.length > 200) {
    throw new BootError("PROMENADE_NODE_ID must be at most 200 characters.");
  }
  return {
    nodeId,
    leaseMs: ms("PROMENADE_LEASE_MS", 30_000, 1000),
    drainGraceMs: ms("PROMENADE_DRAIN_GRACE_MS", 30_000, 0),
  };
}

/**
 * Parse a dotenv file: `KEY=value` lines, `#` comments, optional `export `, single or double
 * quotes (double quotes understand \n). Values are never logged.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (m?.[1] === undefined) continue;
    let value = m[2] ?? "";
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\n/g, "\n").replace(/\\"/g, '"');
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[m[1]] = value;
  }
  return out;
}

/** The `--help` text. */
export const HELP = `promenade-server — serve a Promenade engine over HTTP (JSON API, webhooks, WebSocket, run-log UI).

Usage: promenade-server [--version | --help]

Configuration (environment; empty = unset; legacy BOARDWALK_* names accepted where noted):
  PROMENADE_DATA_DIR          data directory (default ./promenade-data, /data in Docker)   [BOARDWALK_DATA_DIR]
  PROMENADE_WORK_DIR          run working directories, local to this machine (default: the data dir)
  PROMENADE_DATABASE_URL      postgres://user:password@host:5432/db keeps runs in PostgreSQL (default: SQLite in the data dir)
  PROMENADE_WORKFLOWS_DIR     workflows synced at boot (default <data-dir>/workflows)      [BOARDWALK_WORKFLOWS_DIR]
  PROMENADE_WATCH             1/true: redeploy saved workflow files, undeploy deleted ones (default 0)
  PROMENADE_HOST              bind address (default 127.0.0.1)                             [BOARDWALK_HOST]
  PROMENADE_PORT              port 0-65535 (default 8080; 0 = ephemeral)                   [BOARDWALK_PORT]
  PROMENADE_API_TOKEN         bearer token for /api, /api/ws, /metrics (>= 32 chars; required off loopback)
  PROMENADE_API_DEPLOY        1/true (default) or 0/false: allow POST /api/workflows
  PROMENADE_ALLOWED_ORIGINS   extra exact origins accepted by the Origin check (comma-separated)
  PROMENADE_ENV_FILE          dotenv file for secrets and provider keys (default <data-dir>/.env if present) [BOARDWALK_ENV_FILE]
  PROMENADE_DEFAULT_PROVIDER  provider when agent() names none (default: the managed lane)
  PROMENADE_DEFAULT_MODEL     model when agent() names none                                [BOARDWALK_DEFAULT_MODEL]
  PROMENADE_PROVIDERS         JSON provider table {"name":{"base_url":…,"api_key_env":…}}  [BOARDWALK_PROVIDERS]
  PROMENADE_MANAGED_URL       managed gateway base URL                                     [BOARDWALK_INFERENCE_URL]
  PROMENADE_RATES             JSON array of rate overrides (tested first)
  PROMENADE_RATES_FILE        rate table file { version, models } (tested before the shipped rates)
  PROMENADE_PROVIDER_TIMEOUT_MS  provider request timeout (ms)
  PROMENADE_AGENT_BUILTINS    all (default), read-only or none: ceiling on agents' built-in tools
  PROMENADE_WEB_SEARCH_URL    search backend for the agents' web_search tool (unset: no such tool)
  PROMENADE_CLUSTER           1/true: one node of a cluster sharing PROMENADE_DATABASE_URL (default 0)
  PROMENADE_NODE_ID           this node's id in the cluster (default <hostname>:<pid>)
  PROMENADE_LEASE_MS          how long a node holds a run without a heartbeat (default 30000, min 1000)
  PROMENADE_DRAIN_GRACE_MS    on SIGTERM, how long a cluster node lets its runs finish (default 30000)
  PROMENADE_RETENTION         keep terminal runs: 30d, 12h, last 500, "30d, last 1000" or off (default off)
  PROMENADE_IN_DOCKER         1 selects the Docker defaults                                [BOARDWALK_IN_DOCKER]
  PROMENADE_WEBHOOK_TOKEN__<SLUG>, PROMENADE_WEBHOOK_SECRET__<SLUG>  webhook credentials (read per request)
`;

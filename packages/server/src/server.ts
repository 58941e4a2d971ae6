/**
 * `createPromenadeServer`: the HTTP server in front of an `EngineApi`. Owns the request pipeline
 * (draining → Host guard → API token → Origin guard → route → handler), the JSON API handlers,
 * webhooks, UI assets, metrics and the WebSocket upgrade. Every engine call is awaited (an engine
 * may answer with values or promises) and a failed one maps to the same HTTP error either way; a
 * database outage is a 500 per request and `/healthz` 503, never a crash. Never runs SQL or
 * workflow code, never reads `process.env`, and never sends a path, stack or credential to a client.
 */
import { lstatSync, readFileSync, realpathSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { sep } from "node:path";
import type { Duplex } from "node:stream";
import { channelOf, matchesChannels, selectChannels } from "@promenade/workflow";
import { EngineError, isEngineError } from "@promenade/workflow/errors";
import { RUN_STATUSES } from "@promenade/workflow/records";
import {
  DEFAULT_HOST,
  EVENTS_DEFAULT_LIMIT,
  EVENTS_MAX_LIMIT,
  EVENTS_MAX_SCAN,
  HEALTHZ_PING_TIMEOUT_MS,
  MAX_BODY_BYTES,
  MAX_DEPLOY_BODY_BYTES,
  RUNS_DEFAULT_LIMIT,
  RUNS_MAX_LIMIT,
  SHUTDOWN_HTTP_GRACE_MS,
  WS_BEARER_PREFIX,
  WS_HEARTBEAT_MS,
  WS_MAX_CONNECTIONS,
  WS_PROTOCOL,
} from "./constants.ts";
import { CostLedger } from "./cost-ledger.ts";
import { clientErrorListener } from "./internal/client-faults.ts";
import {
  CLIENT_CLOSED_STATUS,
  ClientAbort,
  HttpError,
  errorBody,
  parseJson,
  pathSegments,
  pathnameOf,
  queryOf,
  readBody,
  sendError,
  sendJson,
  toHttpError,
  validationFailed,
} from "./internal/http.ts";
import { Metrics } from "./internal/metrics.ts";
import { backupRoute } from "./routes/admin.ts";
import { OrderedReads } from "./internal/ordered-reads.ts";
import { isTerminalStatus, NON_TERMINAL_STATUSES } from "./internal/status.ts";
import {
  bearerToken,
  isLoopbackHost,
  isLoopbackHostHeader,
  originAllowed,
  tokenEquals,
} from "./internal/security.ts";
import { readIdempotencyKey } from "./idempotency-key.ts";
import { McpAuthorizations } from "./mcp-authorizations.ts";
import type {
  AuthorizeMcpServer,
  EngineApi,
  JsonValue,
  RunRow,
  RunStatus,
  WorkflowRow,
} from "./ports.ts";
import {
  latestArtifacts,
  projectArtifact,
  projectRun,
  projectRuns,
  slugOf,
  workflowDetail,
  workflowSummary,
} from "./project.ts";
import { bundleWorkflow } from "./bundle.ts";
import { inputRoutes } from "./routes/inputs.ts";
import { traceRoute } from "./routes/trace.ts";
import { undeployRoute } from "./routes/undeploy.ts";
import { projectVersions, runVersion } from "./routes/versions.ts";
import { UI_HEADERS, loadUiAssets } from "./ui-assets.ts";
import type { UiAsset } from "./ui-assets.ts";
import { WebhookError, resolveWebhook } from "./webhooks.ts";
import { WsChannel } from "./ws-channel.ts";

/** A workflows-directory file that was not deployed, and why. */
export interface SkippedWorkflowFile {
  /** The file or package directory name inside the workflows directory. */
  file: string;
  error: string;
}

/** Options of {@link createPromenadeServer}; every field is optional. */
export interface PromenadeServerOptions {
  /** Bind host used by `listen` when none is passed. Default `"127.0.0.1"`. */
  host?: string;
  /** Enables bearer auth on `/api/*`, `/api/ws` and `/metrics` (≥ 32 characters recommended). */
  apiToken?: string;
  /** Extra exact origins accepted by the Origin check (no CORS is ever granted). */
  allowedOrigins?: string[];
  /** `POST /api/workflows` enabled. Default `true`. */
  deployApi?: boolean;
  /** Webhook credential source, read per request. Default `() => ({})` (every webhook 503s). */
  env?: () => Record<string, string | undefined>;
  /** Log sink, one line per call. Default: stderr. */
  log?: (line: string) => void;
  /** Reported as `promenade_build_info{version}`. Default `"0.0.0"`. */
  version?: string;
  /** Boot directory-sync counts, seeding `promenade_deploys_total{source="dir"}`. */
  dirDeploys?: { ok: number; error: number };
  /**
   * The workflows-directory files not deployed, each with its error, read per request and
   * listed by `GET /api/workflows` as `skipped`. Without it the response has no `skipped`.
   */
  skippedWorkflows?: () => readonly SkippedWorkflowFile[];
  /** `Engine.authorizeMcpServer`; enables `/api/mcp/authorizations` (else 400 `UNSUPPORTED`). */
  authorizeMcpServer?: AuthorizeMcpServer;
  /** WebSocket protocol ping interval, ms. Default 30 000 (tests shorten it). */
  wsHeartbeatMs?: number;
  /** Slow-consumer close window, ms. Default 60 000 (tests shorten it). */
  wsSlowConsumerMs?: number;
}

/** A server built by {@link createPromenadeServer}; `listen` binds, `close` drains. */
export interface PromenadeServer {
  /**
   * Bind. Throws `VALIDATION` (before binding) for a non-loopback host without `apiToken`.
   * Resolves with the bound host and the real port (useful with port 0).
   */
  listen(port: number, host?: string): Promise<{ host: string; port: number }>;
  /**
   * Drain: 503 for new requests, close WebSockets with 1001 (terminate
   * after 2 s), let in-flight requests finish for `graceMs` (default 5000), then destroy sockets.
   * Idempotent. Does not close the engine.
   */
  close(options?: { graceMs?: number }): Promise<void>;
  /** The underlying Node server. */
  readonly httpServer: Server;
}

const SLUG = /^[A-Za-z0-9-]{1,100}$/;
const RUN_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const DIGITS = /^\d+$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const STATUSES: readonly RunStatus[] = RUN_STATUSES;
const INLINE_TYPES = new Set([
  "text/plain",
  "application/json",
  "application/pdf",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

type Handler = (ctx: Ctx) => Promise<void> | void;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  pathname: string;
}

interface Route {
  template: string;
  /** Segment pattern: literal strings or `null` for a parameter. */
  pattern: (string | null)[];
  methods: Record<string, Handler>;
}

/** Where a path falls for the guards. */
function areaOf(segments: string[]): "api" | "hooks" | "healthz" | "metrics" | "ui" {
  const first = segments[0];
  if (first === "api") return "api";
  if (first === "hooks") return "hooks";
  if (first === "healthz" && segments.length === 1) return "healthz";
  if (first === "metrics" && segments.length === 1) return "metrics";
  return "ui";
}

/**
 * Build the HTTP/WebSocket server for an engine. Does not bind (see `listen`), so embedders and
 * tests that never listen pay nothing for the HTTP layer beyond loading the UI assets.
 */
export function createPromenadeServer(
  engine: EngineApi,
  options: PromenadeServerOptions = {},
): PromenadeServer {
  const log =
    options.log ??
    ((line: string): void => {
      process.stderr.write(`${line}\n`);
    });
  const apiToken = options.apiToken === "" ? undefined : options.apiToken;
  const allowedOrigins = options.allowedOrigins ?? [];
  const deployApi = options.deployApi ?? true;
  const envSource = options.env ?? ((): Record<string, string | undefined> => ({}));
  const version = options.version ?? "0.0.0";
  const metrics = new Metrics();
  if (options.dirDeploys !== undefined) {
    metrics.deploys.inc({ source: "dir", outcome: "ok" }, options.dirDeploys.ok);
    metrics.deploys.inc({ source: "dir", outcome: "error" }, options.dirDeploys.error);
  }
  const assets: Map<string, UiAsset> = loadUiAssets();
  const mcp =
    options.authorizeMcpServer === undefined
      ? null
      : new McpAuthorizations(options.authorizeMcpServer, log);
  let draining = false;
  let closing: Promise<void> | null = null;

  const ledger = new CostLedger(engine);
  const runView = async (run: RunRow): Promise<Record<string, unknown>> =>
    projectRun(run, await slugOf(engine, run.workflowId), await ledger.estimated(run));
  const ws = new WsChannel({
    engine,
    metrics,
    log,
    heartbeatMs: options.wsHeartbeatMs ?? WS_HEARTBEAT_MS,
    ...(options.wsSlowConsumerMs === undefined ? {} : { slowConsumerMs: options.wsSlowConsumerMs }),
  });

  // The single engine listener: metrics, then WebSocket routing. Never throws into the engine.
  // Events carry their workflow, so nothing is read to route them; a lifecycle event reads its
  // run only for what needs the row (the `trigger` label of a started run, the Run of a feed
  // frame), through one ordered pipeline so feed frames keep cursor order.
  const lifecycle = new OrderedReads();
  const unsubscribeEngine = engine.onEvent((row) => {
    try {
      const channel = channelOf(row.event);
      if (channel !== undefined) metrics.runEvents.inc({ channel });
      ledger.observe(row);
      if (row.event.kind === "run_status") {
        const status = row.event.status;
        if (isTerminalStatus(status)) {
          metrics.runsFinished.inc({ workflow: row.workflowSlug, status });
        }
        const started = status === "queued";
        const targets = ws.feedTargets(row);
        if (started || targets !== null) {
          lifecycle.push(
            () => engine.getRun(row.runId),
            (run, error) => {
              if (error !== undefined) {
                log(
                  `run ${row.runId} could not be read for its ${status} event: ${messageOf(error)}`,
                );
              }
              if (started) {
                metrics.runsStarted.inc({
                  workflow: row.workflowSlug,
                  trigger: run?.triggerKind ?? "unknown",
                });
              }
              if (targets !== null) ws.feedEvent(row, run, targets);
            },
          );
        }
      }
      ws.onEvent(row);
    } catch (err) {
      log(`event fan-out failed: ${describe(err)}`);
    }
  });

  // ---- handlers -------------------------------------------------------------------------

  const requireRun = async (id: string): Promise<RunRow> => {
    const run = RUN_ID.test(id) ? await engine.getRun(id) : null;
    if (run === null) throw new HttpError(404, "NOT_FOUND", `Unknown run: ${id}`);
    return run;
  };
  const requireWorkflow = async (slug: string): Promise<WorkflowRow> => {
    const wf = SLUG.test(slug) ? await engine.getWorkflow(slug) : null;
    if (wf === null) {
      throw new HttpError(404, "NOT_FOUND", `Workflow "${slug}" is not deployed on this engine.`);
    }
    return wf;
  };
  const intParam = (query: URLSearchParams, name: string): number | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    if (!DIGITS.test(raw) || !Number.isSafeInteger(Number(raw))) {
      throw new HttpError(
        400,
        "VALIDATION",
        `Query parameter "${name}" must be a non-negative integer (got "${raw}").`,
      );
    }
    return Number(raw);
  };

  /**
   * An instant: epoch ms, or an ISO 8601 date (UTC midnight) or date-time with its offset (a
   * date-time without one would depend on the server's zone).
   */
  const instantParam = (query: URLSearchParams, name: string): number | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    const ms = DIGITS.test(raw)
      ? Number(raw)
      : ISO_INSTANT.test(raw)
        ? Date.parse(raw)
        : Number.NaN;
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new HttpError(
        400,
        "VALIDATION",
        `Query parameter "${name}" must be an instant: epoch milliseconds or an ISO 8601 date-time (got "${raw}").`,
        "Examples: 1735689600000, 2025-01-01, 2025-01-01T09:30:00Z.",
      );
    }
    return ms;
  };

  const listWorkflows: Handler = async ({ res }) => {
    const rows = await engine.listWorkflows();
    sendJson(res, 200, {
      workflows: await Promise.all(rows.map((wf) => workflowSummary(engine, wf))),
      ...(options.skippedWorkflows === undefined ? {} : { skipped: options.skippedWorkflows() }),
    });
  };

  const getWorkflow: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(params[0] ?? "");
    sendJson(res, 200, { workflow: await workflowDetail(engine, wf) });
  };

  const listVersions: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(params[0] ?? "");
    sendJson(res, 200, { versions: projectVersions(await engine.listWorkflowVersions(wf.id)) });
  };

  const getSource: Handler = async ({ res, params }) => {
    const wf = await requireWorkflow(params[0] ?? "");
    sendJson(res, 200, { slug: wf.slug, updatedAt: wf.updatedAt, source: wf.program });
  };

  const deploy: Handler = async ({ req, res }) => {
    if (!deployApi) {
      throw new HttpError(
        403,
        "DEPLOY_DISABLED",
        "Deploying workflows over the API is disabled on this server.",
        "Unset PROMENADE_API_DEPLOY or set it to 1 to allow deploys over the API.",
      );
    }
    const body = parseJson(await readBody(req, MAX_DEPLOY_BODY_BYTES), "deploy body");
    const issues: [string, string][] = [];
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validationFailed("deploy body", [["(root)", "expected an object"]]);
    }
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (!["program", "filename", "skills", "config"].includes(key)) {
        issues.push([key, "unrecognized key"]);
      }
    }
    const program = b["program"];
    if (typeof program !== "string" || program === "") {
      issues.push(["program", "expected a non-empty string"]);
    }
    const filename = b["filename"] ?? "index.mjs";
    if (typeof filename !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(filename)) {
      issues.push(["filename", "expected a file name matching ^[A-Za-z0-9._-]{1,128}$"]);
    } else if (!/\.(mjs|js|ts|mts)$/.test(filename)) {
      issues.push(["filename", "extension must be .mjs, .js, .ts or .mts"]);
    }
    const skills = b["skills"];
    if (skills !== undefined) {
      if (typeof skills !== "object" || skills === null || Array.isArray(skills)) {
        issues.push(["skills", "expected an object of skill name → markdown"]);
      } else {
        for (const [name, text] of Object.entries(skills)) {
          if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$/.test(name)) {
            issues.push([
              `skills.${name}`,
              "invalid skill name (^[A-Za-z0-9][A-Za-z0-9_-]{0,119}$)",
            ]);
          } else if (typeof text !== "string") {
            issues.push([`skills.${name}`, "expected a string"]);
          }
        }
      }
    }
    const config = b["config"];
    if (
      config !== undefined &&
      (typeof config !== "object" || config === null || Array.isArray(config))
    ) {
      issues.push(["config", "expected an object"]);
    }
    if (issues.length > 0) throw validationFailed("deploy body", issues);
    let source = program as string;
    if (/\.(ts|mts)$/.test(filename as string)) {
      source = await bundleWorkflow({ source, filename: filename as string });
    }
    const before = new Set((await engine.listWorkflows()).map((w) => w.id));
    let row: WorkflowRow;
    try {
      row = await engine.deployWorkflow({
        program: source,
        ...(skills === undefined ? {} : { skills: skills as Record<string, string> }),
        ...(config === undefined ? {} : { config: config as Record<string, JsonValue> }),
      });
    } catch (err) {
      metrics.deploys.inc({ source: "api", outcome: "error" });
      throw err;
    }
    metrics.deploys.inc({ source: "api", outcome: "ok" });
    const created = !before.has(row.id);
    sendJson(res, created ? 201 : 200, { workflow: await workflowDetail(engine, row), created });
  };

  const startRun: Handler = async ({ req, res, params }) => {
    const slug = params[0] ?? "";
    const bytes = await readBody(req, MAX_BODY_BYTES);
    const body = parseJson(bytes, "run-start body");
    const requestKey = readIdempotencyKey(req.headers, "runs", bytes);
    await requireWorkflow(slug);
    let input: JsonValue | undefined;
    let version: number | undefined;
    if (body !== undefined) {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw validationFailed("run-start body", [["(root)", "expected an object"]]);
      }
      const extra = Object.keys(body).filter((k) => k !== "input" && k !== "version");
      if (extra.length > 0) {
        throw validationFailed(
          "run-start body",
          extra.map((k) => [k, 'unrecognized key (only "input" and "version" are allowed)']),
        );
      }
      if ("input" in body) input = (body as { input: JsonValue }).input;
      if ("version" in body) version = runVersion(body.version);
    }
    const options = {
      ...(input === undefined ? {} : { input }),
      ...(version === undefined ? {} : { version }),
      triggerKind: "manual" as const,
    };
    const { run, created } =
      requestKey === null
        ? { run: await engine.startRun(slug, options), created: true }
        : await engine.startRunOnce(slug, { ...options, requestKey });
    // A retry of a request that already created its run gets that run, as it is now.
    sendJson(
      res,
      created ? 201 : 200,
      { run: await runView(run) },
      {
        location: `/api/runs/${run.id}`,
        ...(created ? {} : { "idempotent-replayed": "true" }),
      },
    );
  };

  const listRuns: Handler = async ({ res, query }) => {
    let workflowId: string | undefined;
    const workflow = query.get("workflow");
    if (workflow !== null) workflowId = (await requireWorkflow(workflow)).id;
    let statuses: RunStatus[] | undefined;
    const status = query.get("status");
    if (status !== null) {
      statuses = status.split(",").map((s) => {
        const t = s.trim();
        if (!(STATUSES as readonly string[]).includes(t)) {
          throw new HttpError(
            400,
            "VALIDATION",
            `Unknown run status "${t}".`,
            `Valid statuses: ${STATUSES.join(", ")}.`,
          );
        }
        return t as RunStatus;
      });
    }
    const limit = Math.min(intParam(query, "limit") ?? RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT);
    const offset = intParam(query, "offset");
    const since = instantParam(query, "since");
    const until = instantParam(query, "until");
    const before = query.get("before");
    if (before !== null && offset !== undefined) {
      throw new HttpError(
        400,
        "VALIDATION",
        'Query parameters "before" and "offset" cannot be combined.',
        "Page with before=<nextCursor> only.",
      );
    }
    if (before !== null && (!RUN_ID.test(before) || (await engine.getRun(before)) === null)) {
      throw new HttpError(
        400,
        "VALIDATION",
        "Unknown pagination cursor.",
        "Pass the nextCursor of the previous page unchanged.",
      );
    }
    if (limit === 0) {
      sendJson(res, 200, { runs: [], nextCursor: null });
      return;
    }
    const rows = await engine.listRuns({
      limit: limit + 1,
      ...(workflowId === undefined ? {} : { workflowId }),
      ...(statuses === undefined ? {} : { statuses }),
      ...(offset === undefined ? {} : { offset }),
      ...(before === null ? {} : { beforeRunId: before }),
      ...(since === undefined ? {} : { createdSince: since }),
      ...(until === undefined ? {} : { createdBefore: until }),
    });
    const page = rows.slice(0, limit);
    sendJson(res, 200, {
      runs: await projectRuns(engine, page, ledger),
      nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    });
  };

  const getRun: Handler = async ({ res, params }) => {
    sendJson(res, 200, { run: await runView(await requireRun(params[0] ?? "")) });
  };

  const listEvents: Handler = async ({ res, params, query }) => {
    const run = await requireRun(params[0] ?? "");
    const afterRaw = query.get("after");
    let after = 0;
    if (afterRaw !== null) {
      if (!DIGITS.test(afterRaw) || !Number.isSafeInteger(Number(afterRaw))) {
        throw new HttpError(
          400,
          "VALIDATION",
          `Query parameter "after" must be a non-negative integer (got "${afterRaw}").`,
        );
      }
      after = Number(afterRaw);
    }
    const verboseRaw = query.get("verbose");
    if (verboseRaw !== null && verboseRaw !== "true" && verboseRaw !== "false") {
      throw new HttpError(
        400,
        "VALIDATION",
        `Query parameter "verbose" must be "true" or "false" (got "${verboseRaw}").`,
      );
    }
    const channelsRaw = query.get("channels");
    const channels = selectChannels({
      verbose: verboseRaw === "true",
      ...(channelsRaw === null ? {} : { channels: channelsRaw }),
    });
    const limitRaw = intParam(query, "limit");
    if (limitRaw === 0) {
      throw new HttpError(
        400,
        "VALIDATION",
        'Query parameter "limit" must be at least 1 (got "0").',
      );
    }
    const limit = Math.min(limitRaw ?? EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT);
    // Read the status before scanning: a terminal run has all its events committed already.
    const terminal = isTerminalStatus(run.status);
    const events: unknown[] = [];
    let scanned = 0;
    let last = after;
    let exhausted = false;
    while (events.length < limit && scanned < EVENTS_MAX_SCAN) {
      const page = await engine.listEvents(run.id, {
        afterCursor: last,
        limit: Math.min(1000, EVENTS_MAX_SCAN - scanned),
      });
      const want = Math.min(1000, EVENTS_MAX_SCAN - scanned);
      for (const row of page) {
        scanned++;
        last = row.cursor;
        if (matchesChannels(row.event, channels)) {
          events.push({ runId: row.runId, cursor: row.cursor, event: row.event });
          if (events.length >= limit) break;
        }
      }
      if (page.length < want && events.length < limit) {
        exhausted = true;
        break;
      }
    }
    const more = !exhausted && (await engine.maxCursor(run.id)) > last;
    const nextCursor = more ? last : null;
    sendJson(res, 200, { events, nextCursor, done: terminal && nextCursor === null });
  };

  const cancelRun: Handler = async ({ res, params }) => {
    const run = await requireRun(params[0] ?? "");
    if (isTerminalStatus(run.status)) {
      // A finished run has nothing left to cancel: say so rather than accept a no-op.
      const slug = await slugOf(engine, run.workflowId);
      throw new HttpError(
        409,
        "CONFLICT",
        `Run ${run.id} already ended ${run.status}; only a run that has not ended can be cancelled.`,
        `Nothing to cancel; its status and events stay as they are. To run the workflow again, POST /api/workflows/${slug ?? "<slug>"}/runs.`,
      );
    }
    // Settles when the run is terminal; the request does not wait for that.
    new Promise<void>((resolve) => resolve(engine.cancelRun(run.id))).catch((err: unknown) => {
      log(`cancel of run ${run.id} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    sendJson(res, 202, {});
  };

  const stream: Handler = async ({ params }) => {
    const run = await requireRun(params[0] ?? "");
    throw new HttpError(
      410,
      "GONE",
      "The SSE event stream is not served by this engine.",
      `Use the WebSocket channel at /api/ws, or page GET /api/runs/${run.id}/events?after=<cursor>.`,
    );
  };

  const listArtifactsHandler: Handler = async ({ res, params }) => {
    const run = await requireRun(params[0] ?? "");
    sendJson(res, 200, {
      artifacts: latestArtifacts(await engine.listArtifacts(run.id)).map(projectArtifact),
    });
  };

  const getArtifact: Handler = async ({ res, params, query }) => {
    const run = await requireRun(params[0] ?? "");
    const name = params[1] ?? "";
    const missing = new HttpError(404, "NOT_FOUND", `Unknown artifact: ${name.slice(0, 255)}`);
    if (!validArtifactName(name)) throw missing;
    const row = latestArtifacts(await engine.listArtifacts(run.id)).find((a) => a.name === name);
    if (row === undefined) throw missing;
    let bytes: Buffer;
    try {
      const dir = realpathSync(engine.artifactsDir(run.id));
      if (lstatSync(row.path).isSymbolicLink()) throw new Error("symlink");
      const real = realpathSync(row.path);
      if (!real.startsWith(dir + sep)) throw new Error("outside the artifacts directory");
      bytes = readFileSync(real);
    } catch (err) {
      log(
        `artifact ${JSON.stringify(name)} of run ${run.id} not served: ${err instanceof Error ? err.message : String(err)}`,
      );
      throw missing;
    }
    const type = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(;.*)?$/i.test(row.contentType)
      ? row.contentType
      : "application/octet-stream";
    const baseType = type.split(";")[0]?.trim().toLowerCase() ?? "";
    const inline = query.get("inline") === "true" && INLINE_TYPES.has(baseType);
    const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
    res.writeHead(200, {
      "content-type": type,
      "content-length": String(bytes.length),
      "content-disposition": `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox; default-src 'none'",
      "cache-control": "no-store",
    });
    res.end(bytes);
  };

  // The database's state as `/healthz` last saw it: an outage is logged once, and so is recovery.
  let databaseDown = false;
  const healthz: Handler = async ({ res }) => {
    if (draining) {
      sendJson(res, 503, { status: "shutting_down" });
      return;
    }
    try {
      await withTimeout(
        () => engine.ping(),
        HEALTHZ_PING_TIMEOUT_MS,
        `no answer within ${HEALTHZ_PING_TIMEOUT_MS} ms`,
      );
    } catch (err) {
      if (!databaseDown) log(`health check failed: the database is unavailable: ${messageOf(err)}`);
      databaseDown = true;
      if (draining) sendJson(res, 503, { status: "shutting_down" });
      else sendJson(res, 503, { status: "unavailable", reason: "database" });
      return;
    }
    if (databaseDown) log("health check: the database is available again");
    databaseDown = false;
    sendJson(res, draining ? 503 : 200, draining ? { status: "shutting_down" } : { status: "ok" });
  };

  const metricsHandler: Handler = async ({ res }) => {
    const active = NON_TERMINAL_STATUSES;
    const [counts, workflows] = await Promise.all([
      Promise.all(
        active.map(async (status) => {
          const rows = await engine.listRuns({ statuses: [status], limit: 1_000_000 });
          return rows.length;
        }),
      ),
      engine.listWorkflows(),
    ]);
    const runs: Record<string, number> = {};
    active.forEach((status, i) => (runs[status] = counts[i] ?? 0));
    const text = metrics.render({
      version,
      workflows: workflows.length,
      runs,
      wsConnections: ws.connectionCount,
      wsSubscriptions: ws.subscriptionCounts(),
      retention: engine.retentionStats?.() ?? null,
    });
    res.writeHead(200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
    res.end(text);
  };

  const uiFile =
    (name: string): Handler =>
    ({ req, res, params }) => {
      const asset = assets.get(params[0] ?? name);
      if (asset === undefined)
        throw new HttpError(404, "NOT_FOUND", `No such route: ${pathnameOf(req.url ?? "/")}`);
      if (req.headers["if-none-match"] === asset.etag) {
        res.writeHead(304, { ...UI_HEADERS, etag: asset.etag });
        res.end();
        return;
      }
      res.writeHead(200, {
        ...UI_HEADERS,
        "content-type": asset.contentType,
        "content-length": String(asset.body.length),
        etag: asset.etag,
      });
      res.end(asset.body);
    };

  const wsNotUpgrade: Handler = () => {
    throw new HttpError(
      400,
      "VALIDATION",
      "Expected a WebSocket upgrade.",
      "Connect with a WebSocket client to /api/ws.",
    );
  };

  const hook: Handler = async ({ req, res, params, pathname }) => {
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) {
        metrics.webhookRequests.inc({ outcome: "too_large" });
      }
      throw err;
    }
    try {
      const { slug, input, delivery } = await resolveWebhook(
        engine,
        envSource(),
        params[0] ?? "",
        params[1] ?? "",
        req.headers,
        req.rawHeaders,
        body,
        Date.now(),
      );
      const requestKey = readIdempotencyKey(req.headers, `hook/${params[1] ?? ""}`, body);
      const options = {
        ...(input === undefined ? {} : { input }),
        triggerKind: "webhook" as const,
      };
      let run: RunRow;
      let created = true;
      if (requestKey === null && delivery === null) {
        run = await engine.startRun(slug, options);
      } else {
        // The engine refuses a delivery already received (409) before it looks at the key.
        ({ run, created } = await engine.startRunOnce(slug, {
          ...options,
          ...(requestKey === null ? {} : { requestKey }),
          ...(delivery === null ? {} : { delivery }),
        }));
      }
      metrics.webhookRequests.inc({ outcome: "accepted" });
      sendJson(
        res,
        created ? 202 : 200,
        { run: { id: run.id, status: run.status } },
        {
          location: `/api/runs/${run.id}`,
          ...(created ? {} : { "idempotent-replayed": "true" }),
        },
      );
    } catch (err) {
      if (err instanceof WebhookError) {
        metrics.webhookRequests.inc({ outcome: err.outcome });
        if (err.outcome === "not_found") {
          // One identical body for every unresolvable path (the raw path, not the decoded one).
          throw new HttpError(404, "NOT_FOUND", `No webhook trigger at ${pathname}.`);
        }
      } else if (isEngineError(err) && err.code === "CONFLICT") {
        // A delivery already received, or an Idempotency-Key reused for another body.
        metrics.webhookRequests.inc({ outcome: "replayed" });
      } else if (isEngineError(err) && err.code === "VALIDATION") {
        // A body that does not match the workflow's input_schema.
        metrics.webhookRequests.inc({ outcome: "invalid_body" });
      }
      throw err;
    }
  };

  const mcpStart: Handler = async ({ req, res }) => {
    if (mcp === null) {
      throw new HttpError(
        400,
        "UNSUPPORTED",
        "MCP authorization is not available on this server.",
        "Embedders pass authorizeMcpServer in the server options; promenade-server always does.",
      );
    }
    const body = parseJson(await readBody(req, MAX_BODY_BYTES), "authorization body");
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validationFailed("authorization body", [["(root)", "expected an object with a url"]]);
    }
    const extra = Object.keys(body).filter((k) => k !== "url");
    if (extra.length > 0)
      throw validationFailed(
        "authorization body",
        extra.map((k) => [k, "unrecognized key"]),
      );
    const url = (body as { url?: unknown }).url;
    let parsed: URL | null = null;
    try {
      parsed = typeof url === "string" ? new URL(url) : null;
    } catch {
      parsed = null;
    }
    if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      throw validationFailed("authorization body", [
        ["url", "expected an http(s) URL of an MCP server"],
      ]);
    }
    const item = await mcp.start(parsed.toString());
    sendJson(res, 202, { authorization: item }, { location: `/api/mcp/authorizations/${item.id}` });
  };

  const mcpGet: Handler = ({ res, params }) => {
    const item = mcp?.get(params[0] ?? "") ?? null;
    if (item === null)
      throw new HttpError(404, "NOT_FOUND", `Unknown authorization: ${params[0] ?? ""}`);
    sendJson(res, 200, { authorization: item });
  };

  const inputs = inputRoutes(engine, apiToken === undefined ? {} : { respondedBy: "api" });

  const routes: Route[] = [
    { template: "/", pattern: [], methods: { GET: uiFile("index.html") } },
    { template: "/ui/:file", pattern: ["ui", null], methods: { GET: uiFile("") } },
    { template: "/healthz", pattern: ["healthz"], methods: { GET: healthz } },
    { template: "/metrics", pattern: ["metrics"], methods: { GET: metricsHandler } },
    {
      template: "/api/admin/backup",
      pattern: ["api", "admin", "backup"],
      methods: { POST: backupRoute(engine) },
    },
    {
      template: "/api/workflows",
      pattern: ["api", "workflows"],
      methods: { GET: listWorkflows, POST: deploy },
    },
    {
      template: "/api/workflows/:slug",
      pattern: ["api", "workflows", null],
      methods: { GET: getWorkflow, DELETE: undeployRoute(engine, { deployApi }) },
    },
    {
      template: "/api/workflows/:slug/source",
      pattern: ["api", "workflows", null, "source"],
      methods: { GET: getSource },
    },
    {
      template: "/api/workflows/:slug/versions",
      pattern: ["api", "workflows", null, "versions"],
      methods: { GET: listVersions },
    },
    {
      template: "/api/workflows/:slug/runs",
      pattern: ["api", "workflows", null, "runs"],
      methods: { POST: startRun },
    },
    { template: "/api/runs", pattern: ["api", "runs"], methods: { GET: listRuns } },
    { template: "/api/inputs", pattern: ["api", "inputs"], methods: { GET: inputs.listPending } },
    {
      template: "/api/runs/:id/inputs",
      pattern: ["api", "runs", null, "inputs"],
      methods: { GET: inputs.listOfRun },
    },
    {
      template: "/api/runs/:id/inputs/:key",
      pattern: ["api", "runs", null, "inputs", null],
      methods: { POST: inputs.answer },
    },
    { template: "/api/runs/:id", pattern: ["api", "runs", null], methods: { GET: getRun } },
    {
      template: "/api/runs/:id/events",
      pattern: ["api", "runs", null, "events"],
      methods: { GET: listEvents },
    },
    {
      template: "/api/runs/:id/trace",
      pattern: ["api", "runs", null, "trace"],
      methods: { GET: traceRoute(engine) },
    },
    {
      template: "/api/runs/:id/cancel",
      pattern: ["api", "runs", null, "cancel"],
      methods: { POST: cancelRun },
    },
    {
      template: "/api/runs/:id/stream",
      pattern: ["api", "runs", null, "stream"],
      methods: { GET: stream },
    },
    {
      template: "/api/runs/:id/artifacts",
      pattern: ["api", "runs", null, "artifacts"],
      methods: { GET: listArtifactsHandler },
    },
    {
      template: "/api/runs/:id/artifacts/:name",
      pattern: ["api", "runs", null, "artifacts", null],
      methods: { GET: getArtifact },
    },
    { template: "/api/ws", pattern: ["api", "ws"], methods: { GET: wsNotUpgrade } },
    {
      template: "/api/mcp/authorizations",
      pattern: ["api", "mcp", "authorizations"],
      methods: { POST: mcpStart },
    },
    {
      template: "/api/mcp/authorizations/:id",
      pattern: ["api", "mcp", "authorizations", null],
      methods: { GET: mcpGet },
    },
    { template: "/hooks/:slug/:index", pattern: ["hooks", null, null], methods: { POST: hook } },
  ];

  const match = (segments: string[]): { route: Route; params: string[] } | null => {
    for (const route of routes) {
      if (route.pattern.length !== segments.length) continue;
      const params: string[] = [];
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const p = route.pattern[i];
        const s = segments[i] ?? "";
        if (p === null) params.push(s);
        else if (p !== s) {
          ok = false;
          break;
        }
      }
      if (ok) return { route, params };
    }
    return null;
  };

  /** Host, token and Origin guards shared by HTTP requests and upgrades; throws `HttpError`. */
  const guard = (req: IncomingMessage, area: ReturnType<typeof areaOf>): void => {
    if (area === "hooks" || area === "healthz") return;
    if (apiToken === undefined && !isLoopbackHostHeader(req.headers.host)) {
      throw new HttpError(
        403,
        "FORBIDDEN_HOST",
        "Host header is not a loopback name.",
        "Use http://127.0.0.1:<port> or http://localhost:<port>, or set PROMENADE_API_TOKEN.",
      );
    }
    if (apiToken !== undefined && (area === "api" || area === "metrics")) {
      const presented = bearerToken(req.headers.authorization) ?? bearerFromProtocols(req);
      if (presented === null || !tokenEquals(presented, apiToken)) {
        throw new HttpError(
          401,
          "UNAUTHORIZED",
          "Missing or invalid API token.",
          'Send "Authorization: Bearer <PROMENADE_API_TOKEN>".',
          {
            "www-authenticate": 'Bearer realm="promenade"',
          },
        );
      }
    }
    const origin = req.headers.origin;
    if (
      area === "api" &&
      origin !== undefined &&
      !originAllowed(origin, req.headers.host, allowedOrigins)
    ) {
      throw new HttpError(
        403,
        "FORBIDDEN_ORIGIN",
        "Cross-origin requests are not allowed.",
        "Call the API from the server's own origin, or list the origin in PROMENADE_ALLOWED_ORIGINS.",
      );
    }
  };

  /** The browser form of the token: only honoured on the WebSocket upgrade. */
  const bearerFromProtocols = (req: IncomingMessage): string | null => {
    if (req.headers.upgrade === undefined) return null;
    for (const p of protocolsOf(req)) {
      if (p.startsWith(WS_BEARER_PREFIX)) {
        try {
          return Buffer.from(p.slice(WS_BEARER_PREFIX.length), "base64url").toString("utf8");
        } catch {
          return null;
        }
      }
    }
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const method = req.method ?? "GET";
    let routeLabel = "unmatched";
    try {
      if (draining) {
        throw new HttpError(
          503,
          "SHUTTING_DOWN",
          "The server is shutting down.",
          "Retry against the restarted server.",
          { connection: "close" },
        );
      }
      const target = req.url ?? "/";
      const pathname = pathnameOf(target);
      const segments = pathSegments(target);
      const area = areaOf(segments);
      guard(req, area);
      const found = match(segments);
      if (found === null) {
        if (area === "hooks" && segments.length === 3) {
          throw new HttpError(404, "NOT_FOUND", `No webhook trigger at ${pathname}.`);
        }
        throw new HttpError(404, "NOT_FOUND", `No such route: ${pathname}`);
      }
      routeLabel = found.route.template;
      const handler = found.route.methods[method];
      if (handler === undefined) {
        const allow = Object.keys(found.route.methods).join(", ");
        throw new HttpError(
          405,
          "METHOD_NOT_ALLOWED",
          `${method} is not allowed for ${pathname}.`,
          undefined,
          { allow },
        );
      }
      await handler({ req, res, params: found.params, query: queryOf(target), pathname });
    } catch (err) {
      if (err instanceof ClientAbort) {
        // The client hung up mid-request: a client fault, not logged, not a 5xx.
        res.destroy();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.observeRequest(method, routeLabel, CLIENT_CLOSED_STATUS, seconds);
        return;
      }
      const { error, internal } = toHttpError(err);
      if (internal) {
        log(
          `internal error on ${method} ${routeLabel}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      }
      if (res.headersSent) {
        res.destroy();
      } else {
        sendError(res, error);
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      res.once("finish", () => metrics.observeRequest(method, routeLabel, res.statusCode, seconds));
      if (res.writableFinished) metrics.observeRequest(method, routeLabel, res.statusCode, seconds);
    }
  };

  const rejectUpgrade = (socket: Duplex, error: HttpError): void => {
    const body = errorBody(error.code, error.message, error.hint);
    const extra = Object.entries(error.headers)
      .filter(([k]) => k !== "connection")
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    socket.end(
      `HTTP/1.1 ${error.status} ${statusText(error.status)}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n` +
        `x-content-type-options: nosniff\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
    socket.once("finish", () => socket.destroy());
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    try {
      const segments = pathSegments(req.url ?? "/");
      if (segments.length !== 2 || segments[0] !== "api" || segments[1] !== "ws") {
        throw new HttpError(404, "NOT_FOUND", `No such route: ${pathnameOf(req.url ?? "/")}`);
      }
      if (draining) throw new HttpError(503, "SHUTTING_DOWN", "The server is shutting down.");
      guard(req, "api");
      const offered = protocolsOf(req);
      if (offered.length > 0 && !offered.includes(WS_PROTOCOL)) {
        throw new HttpError(
          400,
          "VALIDATION",
          "Unsupported WebSocket subprotocol.",
          `Offer "${WS_PROTOCOL}".`,
        );
      }
      if (ws.connectionCount >= WS_MAX_CONNECTIONS) {
        throw new HttpError(
          503,
          "TOO_MANY_CONNECTIONS",
          "Too many WebSocket connections.",
          "Close idle connections and retry.",
        );
      }
      metrics.observeRequest("GET", "/api/ws", 101, 0);
      ws.accept(req, socket, head);
    } catch (err) {
      const { error, internal } = toHttpError(err);
      if (internal)
        log(
          `websocket upgrade failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      metrics.observeRequest("GET", "/api/ws", error.status, 0);
      rejectUpgrade(socket, error);
    }
  };

  const httpServer = createServer(
    { headersTimeout: 20_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      void handle(req, res);
    },
  );
  httpServer.on("upgrade", onUpgrade);
  httpServer.on("clientError", clientErrorListener(metrics));

  return {
    httpServer,
    listen(port: number, host?: string): Promise<{ host: string; port: number }> {
      const bindHost = host ?? options.host ?? DEFAULT_HOST;
      if (apiToken === undefined && !isLoopbackHost(bindHost)) {
        return Promise.reject(
          new EngineError(
            "VALIDATION",
            `refusing to listen on ${bindHost} without PROMENADE_API_TOKEN — anyone who can reach it could deploy and run code.`,
            "Set PROMENADE_API_TOKEN (openssl rand -hex 32), or bind to 127.0.0.1.",
          ),
        );
      }
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        httpServer.once("error", onError);
        httpServer.listen(port, bindHost, () => {
          httpServer.off("error", onError);
          const addr = httpServer.address();
          resolve({
            host: bindHost,
            port: typeof addr === "object" && addr !== null ? addr.port : port,
          });
        });
      });
    },
    close(closeOptions?: { graceMs?: number }): Promise<void> {
      if (closing !== null) return closing;
      draining = true;
      const graceMs = closeOptions?.graceMs ?? SHUTDOWN_HTTP_GRACE_MS;
      closing = (async () => {
        unsubscribeEngine();
        const serverClosed = new Promise<void>((resolve) => {
          if (!httpServer.listening) {
            resolve();
            return;
          }
          httpServer.close(() => resolve());
        });
        httpServer.closeIdleConnections();
        await ws.closeAll(1001, "server shutting down", 2000);
        ws.dispose();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          serverClosed,
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              httpServer.closeAllConnections();
              resolve();
            }, graceMs);
          }),
        ]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

function protocolsOf(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  if (raw === undefined) return [];
  return raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  return texts[status] ?? "Error";
}

/** An artifact name: one decoded segment, 1–255 UTF-8 bytes, no separators, NUL, controls or `..`. */
function validArtifactName(name: string): boolean {
  const bytes = Buffer.byteLength(name);
  if (bytes < 1 || bytes > 255) return false;
  if (name === "." || name.includes("..")) return false;
  // eslint-disable-next-line no-control-regex
  return !/[/\\\u0000-\u001f\u007f]/.test(name);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** `fn()`, failing with `message` when it has not settled within `ms`. */
async function withTimeout<T>(fn: () => T | Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      new Promise<T>((resolve) => resolve(fn())),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The `promenade-server` boot sequence and lifecycle: config, env file, engine (SQLite in the
 * data dir, or PostgreSQL when `PROMENADE_DATABASE_URL` is set), workflows-dir sync, recovery
 * sweep, HTTP server, startup lines, the workflows-dir watch (`PROMENADE_WATCH=1`), and graceful
 * shutdown on SIGTERM/SIGINT. All logs are plain
 * lines on stderr; boot failures never print a stack, and a database that cannot be opened is
 * one line naming the problem and the fix. Owns process exit codes; the engine and server own
 * everything else. Uses only the engine's promise-returning methods (either database).
 */
import { existsSync, readFileSync } from "node:fs";
import { Engine, isEngineError } from "@promenade/engine";
import type { EngineOpenOptions } from "@promenade/engine";
import {
  SHUTDOWN_CHILD_GRACE_MS,
  SHUTDOWN_DEADLINE_MS,
  SHUTDOWN_HTTP_GRACE_MS,
  bundleWorkflow,
  createPromenadeServer,
} from "@promenade/server";
import type { PromenadeServer } from "@promenade/server";
import { engineApi } from "./adapter.ts";
import { BootError, HELP, parseConfig, parseDotenv } from "./config.ts";
import { startTraceExportIfConfigured } from "./otel.ts";
import { WorkflowsDir } from "./workflows-dir.ts";

/** The binary's version (the app's package.json). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** A repeated signal this soon after the first is the same stop request, not "exit now". */
const REPEAT_SIGNAL_WINDOW_MS = 1000;

/** What `boot` needs from the process; tests can pass their own. */
export interface BootIo {
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  log: (line: string) => void;
  stdout: (text: string) => void;
  exit: (code: number) => void;
  onSignal: (signal: "SIGTERM" | "SIGINT", handler: () => void) => void;
}

/** A booted server, for embedding the binary's behaviour in tests. */
export interface Booted {
  engine: Engine;
  server: PromenadeServer;
  host: string;
  port: number;
  shutdown(signal: string): Promise<void>;
}

function fail(io: BootIo, err: unknown): void {
  if (err instanceof BootError || (err instanceof Error && "hint" in err)) {
    io.log(`promenade-server: ${err.message}`);
    const hint = (err as { hint?: unknown }).hint;
    if (typeof hint === "string") io.log(`  hint: ${hint}`);
  } else {
    io.log(`promenade-server: ${err instanceof Error ? err.message : String(err)}`);
  }
  io.exit(1);
}

/**
 * `Engine.open`, with a database that cannot be opened (bad URL, refused login, unreachable
 * host, unknown database) turned into one boot line: the problem, then the fix.
 */
async function openEngine(options: EngineOpenOptions): Promise<Engine> {
  try {
    return await Engine.open(options);
  } catch (err) {
    if (options.databaseUrl === undefined || !isEngineError(err)) throw err;
    if (err.code !== "VALIDATION" && err.code !== "INTERNAL") throw err;
    const fix = err.hint === undefined ? "" : ` ${err.hint}`;
    throw new BootError(
      `cannot open the database (PROMENADE_DATABASE_URL): ${err.message}${fix}`.replace(
        /\s*\n\s*/g,
        " ",
      ),
    );
  }
}

/** Run the binary. Resolves once listening (or after exiting on a boot error / flag). */
export async function boot(io: BootIo): Promise<Booted | null> {
  const args = io.argv;
  if (args.length === 1 && args[0] === "--version") {
    io.stdout(`${VERSION}\n`);
    io.exit(0);
    return null;
  }
  if (args.length === 1 && args[0] === "--help") {
    io.stdout(HELP);
    io.exit(0);
    return null;
  }
  if (args.length > 0) {
    io.log(`promenade-server: unexpected argument "${args[0]}".`);
    io.log("usage: promenade-server [--version | --help]  (configure with PROMENADE_* variables)");
    io.exit(2);
    return null;
  }

  let engine: Engine | null = null;
  try {
    const config = parseConfig(io.env, io.cwd);
    for (const notice of config.notices) io.log(notice);
    const secrets =
      config.envFile === null ? {} : parseDotenv(readFileSync(config.envFile, "utf8"));
    engine = await openEngine({
      dataDir: config.dataDir,
      workDir: config.workDir,
      ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
      env: secrets,
      envLabel:
        config.envFile === null
          ? "the server environment"
          : `the env file ${config.envFile} or the server environment`,
      processEnv: io.env,
      inference: config.inference,
      log: io.log,
      warmPoolSize: 1,
      builtins: config.agentBuiltins,
      ...(config.webSearchUrl === undefined ? {} : { webSearchUrl: config.webSearchUrl }),
      ...(config.retention === undefined ? {} : { retention: config.retention }),
      ...(config.cluster === null
        ? {}
        : {
            cluster: {
              leaseMs: config.cluster.leaseMs,
              ...(config.cluster.nodeId === undefined ? {} : { nodeId: config.cluster.nodeId }),
            },
          }),
    });
    const opened = engine;

    let dirDeploys = { ok: 0, error: 0 };
    const workflowsDir = new WorkflowsDir({
      engine: opened,
      dir: config.workflowsDir,
      bundle: (entryFile) => bundleWorkflow({ entryFile }),
      log: io.log,
    });
    if (config.workflowsDirExplicit && !existsSync(config.workflowsDir)) {
      io.log(`workflows dir ${config.workflowsDir} does not exist; nothing deployed from it`);
    } else {
      const synced = await workflowsDir.sync();
      dirDeploys = { ok: synced.deployed, error: synced.skipped };
    }
    await opened.startAsync();
    const traceExport = await startTraceExportIfConfigured(io.env, opened, io.log);

    const server = createPromenadeServer(engineApi(opened), {
      host: config.host,
      ...(config.apiToken === undefined ? {} : { apiToken: config.apiToken }),
      allowedOrigins: config.allowedOrigins,
      deployApi: config.deployApi,
      env: () => io.env,
      log: io.log,
      version: VERSION,
      dirDeploys,
      skippedWorkflows: () => workflowsDir.skipped,
      authorizeMcpServer: (url, options) => opened.authorizeMcpServer(url, options),
    });
    let bound: { host: string; port: number };
    try {
      bound = await server.listen(config.port, config.host);
    } catch (err) {
      await server.close({ graceMs: 0 });
      await traceExport?.close();
      opened.close();
      throw new BootError(
        `cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`,
        "Pick another PROMENADE_PORT, or stop the process using it.",
      );
    }
    let stopping: Promise<void> | null = null;
    let firstSignalAt = 0;
    const shutdown = (signal: string): Promise<void> => {
      if (stopping !== null) {
        // One Ctrl-C often arrives twice: from the terminal and forwarded by a process manager
        // (`pnpm start`). Only a signal sent again later means "exit now".
        if (Date.now() - firstSignalAt < REPEAT_SIGNAL_WINDOW_MS) return stopping;
        io.log(`${signal} received again — exiting now`);
        io.exit(1);
        return stopping;
      }
      firstSignalAt = Date.now();
      io.log(`${signal} received — shutting down`);
      let deadline: NodeJS.Timeout | undefined;
      stopping = (async () => {
        const drainGraceMs = config.cluster?.drainGraceMs;
        if (drainGraceMs !== undefined) {
          // A cluster node drains first: it claims nothing more and lets its runs finish; the
          // close then hands the runs still held to another node at once.
          io.log(`draining: waiting up to ${String(drainGraceMs)} ms for this node's runs`);
          const left = await opened.drain({ graceMs: drainGraceMs }).catch(() => 0);
          io.log(
            left === 0
              ? "drained: no run left on this node"
              : `drain grace over: releasing ${String(left)} run(s) to another node`,
          );
        }
        deadline = setTimeout(() => {
          io.log("shutdown timed out");
          io.exit(1);
        }, SHUTDOWN_DEADLINE_MS);
        deadline.unref();
        workflowsDir.close();
        await server.close({ graceMs: SHUTDOWN_HTTP_GRACE_MS });
        await traceExport?.close().catch((err: unknown) => {
          io.log(`trace export flush failed: ${err instanceof Error ? err.message : String(err)}`);
        });
        await opened.closeGracefully({ childGraceMs: SHUTDOWN_CHILD_GRACE_MS });
        clearTimeout(deadline);
        io.exit(0);
      })();
      return stopping;
    };
    // Installed before the startup lines: a supervisor may signal as soon as it reads them.
    io.onSignal("SIGTERM", () => void shutdown("SIGTERM"));
    io.onSignal("SIGINT", () => void shutdown("SIGINT"));
    const hostText = bound.host.includes(":") ? `[${bound.host}]` : bound.host;
    io.log(`data dir: ${config.dataDir}`);
    if (config.workDir !== config.dataDir) io.log(`work dir: ${config.workDir}`);
    io.log(`database: ${opened.database.label}`);
    const node = opened.cluster;
    if (node !== null) {
      io.log(`cluster node: ${node.nodeId} (lease ${String(node.leaseMs)} ms)`);
    }
    io.log(
      config.apiToken === undefined ? "api auth: disabled (loopback only)" : "api auth: enabled",
    );
    io.log(`listening on http://${hostText}:${bound.port}`);
    io.log(`workflows deployed: ${(await opened.storeAsync.listWorkflows()).length}`);
    if (config.watch) workflowsDir.watch();

    return { engine: opened, server, host: bound.host, port: bound.port, shutdown };
  } catch (err) {
    try {
      engine?.close();
    } catch {
      // Already closed or never opened; the boot error below is what matters.
    }
    fail(io, err);
    return null;
  }
}

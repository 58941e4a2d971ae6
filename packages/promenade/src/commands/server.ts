/**
 * `promenade server` and the one door to the composed server (today the private workspace
 * package `promenade-server`, bundled into this package's build): configuration by `PROMENADE_*`
 * variables, which the flags here only fill in. Serves the JSON API, webhooks, the WebSocket
 * event channel and the run-log UI until SIGINT/SIGTERM, then shuts down gracefully and exits 0.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Booted } from "promenade-server";
import { integerOption, stringOption } from "../args.ts";
import type { Command } from "../command.ts";
import type { CliIo } from "../io.ts";

/** The data directory `promenade server` uses when `PROMENADE_DATA_DIR` is unset. */
export const DEFAULT_DATA_DIR = ".promenade";

/** A started server, or `null` when boot failed (it has already printed why and exited). */
export type StartedServer = Booted | null;

/**
 * Boot the composed server with `env` as its whole configuration (`argv`: only `--help` or
 * `--version`). Resolves once it listens. Signals and the exit code belong to the server from
 * here on (graceful shutdown, exit 0).
 */
export async function startServer(
  io: CliIo,
  env: Record<string, string | undefined>,
  argv: string[] = [],
): Promise<StartedServer> {
  // Loaded on demand: the engine and the HTTP server are heavy, and most commands need neither.
  const { boot } = await import("promenade-server");
  return boot({
    argv,
    env,
    cwd: io.cwd,
    log: (line) => io.stderr.write(`${line}\n`),
    stdout: (text) => io.stdout.write(text),
    exit: (code) => io.exit(code),
    onSignal: (signal, handler) => {
      io.onSignal(signal, handler);
    },
  });
}

/** Flags → `PROMENADE_*` overrides on top of the environment. */
export function serverEnv(
  io: Pick<CliIo, "env" | "cwd">,
  flags: {
    port?: number | undefined;
    host?: string | undefined;
    dataDir?: string | undefined;
    workflows?: string | undefined;
  },
  defaults: { dataDir: string; workflowsDir: string | undefined },
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...io.env };
  const unset = (name: string): boolean => env[name] === undefined || env[name] === "";
  if (flags.port !== undefined) env["PROMENADE_PORT"] = String(flags.port);
  if (flags.host !== undefined) env["PROMENADE_HOST"] = flags.host;
  if (flags.dataDir !== undefined) env["PROMENADE_DATA_DIR"] = resolve(io.cwd, flags.dataDir);
  else if (
    unset("PROMENADE_DATA_DIR") &&
    unset("BOARDWALK_DATA_DIR") &&
    unset("PROMENADE_IN_DOCKER")
  ) {
    env["PROMENADE_DATA_DIR"] = defaults.dataDir;
  }
  if (flags.workflows !== undefined)
    env["PROMENADE_WORKFLOWS_DIR"] = resolve(io.cwd, flags.workflows);
  else if (
    defaults.workflowsDir !== undefined &&
    unset("PROMENADE_WORKFLOWS_DIR") &&
    unset("BOARDWALK_WORKFLOWS_DIR")
  ) {
    env["PROMENADE_WORKFLOWS_DIR"] = defaults.workflowsDir;
  }
  return env;
}

/** `--port`, `--host`, `--data-dir`, `--workflows`, shared by `server` and `dev`. */
export const SERVE_OPTIONS = {
  port: {
    type: "string",
    value: "PORT",
    description: "port (default $PROMENADE_PORT, else 8080; 0 = any free port)",
  },
  host: {
    type: "string",
    value: "HOST",
    description: "bind address (default $PROMENADE_HOST, else 127.0.0.1)",
  },
  "data-dir": {
    type: "string",
    value: "DIR",
    description: "database and run data (default $PROMENADE_DATA_DIR, else ./.promenade)",
  },
  workflows: { type: "string", value: "DIR", description: "workflows directory deployed at start" },
} as const;

/** Parsed `SERVE_OPTIONS`. */
export function serveFlags(values: Readonly<Record<string, string | boolean | undefined>>): {
  port: number | undefined;
  host: string | undefined;
  dataDir: string | undefined;
  workflows: string | undefined;
} {
  return {
    port: integerOption("port", values["port"], { min: 0, max: 65_535 }),
    host: stringOption(values["host"]),
    dataDir: stringOption(values["data-dir"]),
    workflows: stringOption(values["workflows"]),
  };
}

/** Keep the command pending while the server runs: it exits the process itself on shutdown. */
export function untilShutdown(started: StartedServer): Promise<number> {
  return started === null ? Promise.resolve(1) : new Promise<number>(() => undefined);
}

/** `promenade server`. */
export const serverCommand: Command = {
  spec: {
    name: "server",
    summary: "serve the engine: JSON API, webhooks, WebSocket events and the run-log UI",
    description:
      "Starts a Promenade server on SQLite in ./.promenade (or PROMENADE_DATA_DIR), or on PostgreSQL when PROMENADE_DATABASE_URL is set. Deploys ./workflows when it exists (else <data-dir>/workflows) at start. Configured by PROMENADE_* variables (run `promenade-server --help` for the list); the flags below override them. Ctrl-C shuts down gracefully and exits 0; interrupted runs restart on the next start.",
    options: { ...SERVE_OPTIONS },
    positionals: [],
    examples: [
      "promenade server",
      "PROMENADE_API_TOKEN=$(openssl rand -hex 32) promenade server --host 0.0.0.0",
    ],
  },
  async run(args, io) {
    const flags = serveFlags(args.values);
    const local = resolve(io.cwd, "workflows");
    const env = serverEnv(io, flags, {
      dataDir: resolve(io.cwd, DEFAULT_DATA_DIR),
      workflowsDir: existsSync(local) ? local : undefined,
    });
    return untilShutdown(await startServer(io, env));
  },
};

/**
 * `promenade dev [dir]`: the server for a workflows project — its `workflows/` directory (or the
 * directory itself) deployed at start, data in `<dir>/.promenade`, the run-log UI on
 * `http://127.0.0.1:8080`. Sets `PROMENADE_WATCH=1` so a server that watches its workflows
 * directory redeploys saved files.
 */
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { SERVE_OPTIONS, serveFlags, serverEnv, startServer, untilShutdown } from "./server.ts";

/** `promenade dev`. */
export const devCommand: Command = {
  spec: {
    name: "dev",
    summary: "serve a workflows project with the run-log UI",
    description:
      "Starts a server for the project in DIR (default: the current directory): deploys DIR/workflows (or DIR itself when it has no workflows/ directory), keeps data in DIR/.promenade and serves the API and run-log UI. Ctrl-C stops it.",
    options: { ...SERVE_OPTIONS },
    positionals: [{ name: "dir", required: false }],
    examples: ["promenade dev", "promenade dev my-project --port 9090"],
  },
  async run(args, io) {
    const project = resolve(io.cwd, args.positionals[0] ?? ".");
    if (!existsSync(project) || !statSync(project).isDirectory()) {
      throw new UsageError(
        `${args.positionals[0] ?? project} is not a directory.`,
        "Create a project with `promenade init <dir>`, or give an existing directory.",
      );
    }
    const workflows = existsSync(join(project, "workflows")) ? join(project, "workflows") : project;
    const env = serverEnv(io, serveFlags(args.values), {
      dataDir: join(project, ".promenade"),
      workflowsDir: workflows,
    });
    env["PROMENADE_WATCH"] ??= "1";
    const started = await startServer(io, env);
    if (started !== null) {
      const style = createStyle(colorEnabled(io.stderr, io.env));
      const host = started.host.includes(":") ? `[${started.host}]` : started.host;
      const shown = relative(io.cwd, workflows) || ".";
      io.stderr.write(
        [
          "",
          `${style.bold("Promenade dev")}  ${style.cyan(`http://${host}:${started.port}`)}  (run-log UI)`,
          `  workflows: ${shown}`,
          `  run one:   promenade run <slug> --url http://${host}:${started.port}`,
          "",
        ].join("\n"),
      );
    }
    return untilShutdown(started);
  },
};

/**
 * The `promenade` dispatcher: picks the command, parses its arguments, prints `--help`, and turns
 * every failure into one message and an exit code — 2 for a wrong command line (`UsageError`,
 * with the fix), 1 for a command that could not complete (`CliError`, with the server's code
 * and hint when it came from there). Never prints a stack for an expected failure.
 */
import { parseCommandLine, renderHelp } from "./args.ts";
import type { Command } from "./command.ts";
import { backupCommand } from "./commands/backup.ts";
import { cancelCommand } from "./commands/cancel.ts";
import { deployCommand } from "./commands/deploy.ts";
import { devCommand } from "./commands/dev.ts";
import { initCommand } from "./commands/init.ts";
import { inputsCommand } from "./commands/inputs.ts";
import { logsCommand } from "./commands/logs.ts";
import { respondCommand } from "./commands/respond.ts";
import { restoreCommand } from "./commands/restore.ts";
import { runCommand } from "./commands/run.ts";
import { runsCommand } from "./commands/runs.ts";
import { serverCommand } from "./commands/server.ts";
import { undeployCommand } from "./commands/undeploy.ts";
import { workflowsCommand } from "./commands/workflows.ts";
import { CliError, UsageError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { colorEnabled, createStyle } from "./format/color.ts";
import type { CliIo } from "./io.ts";
import { VERSION } from "./version.ts";

/** Every command, in the order `promenade --help` lists them. */
export const COMMANDS: readonly Command[] = [
  initCommand,
  devCommand,
  runCommand,
  deployCommand,
  undeployCommand,
  workflowsCommand,
  runsCommand,
  logsCommand,
  cancelCommand,
  inputsCommand,
  respondCommand,
  serverCommand,
  backupCommand,
  restoreCommand,
];

/** `promenade --help`. */
export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    "promenade — durable AI-agent workflows as TypeScript programs",
    "",
    "Usage: promenade <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    "",
    "Server commands take --url / --token (default $PROMENADE_URL, $PROMENADE_API_TOKEN,",
    "else http://127.0.0.1:8080). Exit codes: 0 ok or run completed, 1 failed, 2 usage, 130",
    "cancelled.",
    "",
    'Run "promenade <command> --help" for a command\'s options. Version: ' + VERSION,
    "",
  ].join("\n");
}

/** Run the CLI with `argv` (the arguments after `promenade`); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const style = createStyle(colorEnabled(io.stderr, io.env));
  if (name === undefined) {
    io.stderr.write(topLevelHelp());
    return EXIT.usage;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.spec.name === rest[0]) : undefined;
    io.stdout.write(topic === undefined ? topLevelHelp() : renderHelp(topic.spec));
    return EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  const label = `promenade${command === undefined ? "" : ` ${command.spec.name}`}`;
  try {
    if (command === undefined) {
      throw new UsageError(
        name.startsWith("-") ? `unknown option ${name}.` : `unknown command "${name}".`,
        `Commands: ${COMMANDS.map((c) => c.spec.name).join(", ")}. Run "promenade --help".`,
      );
    }
    const args = parseCommandLine(command.spec, rest);
    if (args.help) {
      io.stdout.write(renderHelp(command.spec));
      return EXIT.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    const usage = error instanceof UsageError;
    const known = usage || error instanceof CliError;
    const message =
      error instanceof Error
        ? known
          ? error.message
          : (error.stack ?? error.message)
        : String(error);
    io.stderr.write(`${style.red(`${label}:`)} ${message}\n`);
    const hint = error instanceof UsageError || error instanceof CliError ? error.hint : undefined;
    if (hint !== undefined) io.stderr.write(`  hint: ${hint}\n`);
    return usage ? EXIT.usage : EXIT.failed;
  }
}

/**
 * The shape every command file exports: its spec (options, positionals, help text) and what it
 * does with the parsed arguments. `cli.ts` owns parsing, `--help`, error printing and exit codes;
 * a command returns its exit code or throws `UsageError` / `CliError`.
 */
import type { CommandSpec, ParsedArgs } from "./args.ts";
import type { CliIo } from "./io.ts";

/** One `promenade <name>` command. */
export interface Command {
  spec: CommandSpec;
  /** Resolves with the exit code. */
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

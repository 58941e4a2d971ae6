/**
 * `promenade`: the command line. The only door in: named re-exports, nothing else. Most users
 * run the `promenade` binary; `main` runs the same CLI in-process with your own I/O (tests,
 * wrappers).
 */
export { main, COMMANDS } from "./cli.ts";
export type { Command } from "./command.ts";
export type { CommandSpec, OptionSpec, ParsedArgs, PositionalSpec } from "./args.ts";
export type { CliIo, CliStream } from "./io.ts";
export { CliError, UsageError } from "./errors.ts";
export { EXIT, exitCodeFor } from "./exit-codes.ts";
export { VERSION } from "./version.ts";

/**
 * The two ways a command fails: a `UsageError` (the command line is wrong: exit 2) and a
 * `CliError` (the command could not do its job: exit 1). Both carry a one-line `hint` naming
 * the fix; `cli.ts` prints `promenade <command>: <message>` then `  hint: <hint>`.
 */

/** A wrong command line. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.hint = hint;
  }
}

/** A command that could not complete (file missing, server error…). Exit code 1. */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly hint: string | undefined;
  /** Machine-readable code when the failure came from the engine or the server. */
  readonly code: string | undefined;
  constructor(message: string, options: { hint?: string | undefined; code?: string } = {}) {
    super(message);
    this.hint = options.hint;
    this.code = options.code;
  }
}

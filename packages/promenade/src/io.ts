/**
 * What a command needs from its process: arguments, environment, working directory, the two
 * output streams, signals and exit. `main.ts` wires the real process; tests pass their own.
 * Commands never touch `process` directly, so every behaviour is reachable from a test.
 */

/** An output stream. */
export interface CliStream {
  write(text: string): void;
  /** True when a terminal is attached (colour and the live status line are then on). */
  readonly isTTY: boolean;
  /** Terminal width in columns, when known. */
  readonly columns?: number | undefined;
}

/** The process, as commands see it. */
export interface CliIo {
  /** Environment (`PROMENADE_URL`, `PROMENADE_API_TOKEN`, `NO_COLOR`, …). */
  env: Readonly<Record<string, string | undefined>>;
  /** Absolute working directory; relative paths resolve against it. */
  cwd: string;
  /** Data (lists, output, events of `logs`). */
  stdout: CliStream;
  /** Progress, the status line, diagnostics and errors. */
  stderr: CliStream;
  /** Standard input as text (for `--input @-`). */
  readStdin(): Promise<string>;
  /** Install a signal handler; returns a function that removes it. */
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): () => void;
  /** End the process now (the server's shutdown owns its exit code). */
  exit(code: number): void;
}

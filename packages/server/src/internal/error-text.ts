/** A thrown value as text for a log line. */

/** The message of an error (or the value as a string). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An error as one log line (with its stack when it has one). */
export function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

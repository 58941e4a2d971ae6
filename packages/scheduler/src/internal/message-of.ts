/** The message of a thrown value, for one-line logs. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

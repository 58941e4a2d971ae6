/**
 * The parent-side redaction safety net: every secret value a run resolved (env-interpolated or
 * `secrets.get`) is replaced by `[redacted:<NAME>]` in the run's events, its output, error
 * messages, the values it stores through host calls (child-run input, artifact metadata) and
 * diagnostics, whatever the run process already did. Strings are redacted wherever they sit in a
 * value, object keys included. Values shorter than 4 characters are never redacted (they would
 * shred ordinary text). Values reaching here passed the JSON depth limit, so the recursive walk
 * is bounded.
 */

/** Secret value → secret name, as collected for one run. */
export type SecretValues = ReadonlyMap<string, string>;

/** `text` with every known secret value (≥ 4 chars) replaced, longest first. */
export function redactText(secrets: SecretValues, text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  const entries = [...secrets].filter(([value]) => value.length >= 4);
  entries.sort((a, b) => b[0].length - a[0].length);
  for (const [value, name] of entries) {
    if (out.includes(value)) out = out.split(value).join(`[redacted:${name}]`);
  }
  return out;
}

/** An event body with every string redacted; the same object when no secret occurs in it. */
export function redactBody(
  secrets: SecretValues,
  body: { kind: string } & Record<string, unknown>,
): { kind: string } & Record<string, unknown> {
  return redactValue(secrets, body) as { kind: string } & Record<string, unknown>;
}

/**
 * A JSON value with every string (object keys included) redacted; the same value when no
 * secret occurs in it.
 */
export function redactValue(secrets: SecretValues, value: unknown): unknown {
  if (secrets.size === 0 || value === null || value === undefined) return value;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  let hit = false;
  for (const secret of secrets.keys()) {
    if (secret.length >= 4 && text.includes(secret)) {
      hit = true;
      break;
    }
  }
  if (!hit) return value;
  return redactDeep(value, (s) => redactText(secrets, s));
}

/**
 * `value` with `redact` applied to every string in it, object keys included (arrays and plain
 * objects walked).
 */
export function redactDeep(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact);
    return out;
  }
  return value;
}

/** Length of the longest redacted secret (0 when none): how much output tail to hold back. */
export function longestSecret(secrets: SecretValues): number {
  let longest = 0;
  for (const value of secrets.keys()) {
    if (value.length >= 4 && value.length > longest) longest = value.length;
  }
  return longest;
}

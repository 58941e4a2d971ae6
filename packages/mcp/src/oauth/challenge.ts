/**
 * `WWW-Authenticate` Bearer challenge parsing. Pure string work; lives with the
 * OAuth pieces but is also used by the HTTP transport to hand the challenge to auth providers.
 */

/**
 * Parses the parameters of a `Bearer` challenge (`key="quoted"` or `key=token`, comma-separated,
 * keys lower-cased, `\"` unescaped). Non-Bearer, bare `Bearer` or empty → `{}`.
 */
export function parseBearerChallenge(header: string): Record<string, string> {
  const match = /^\s*bearer(?:\s+(.*))?$/is.exec(header);
  const rest = match?.[1];
  if (!rest) return {};
  const params: Record<string, string> = {};
  const pattern = /\s*([^\s=,]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let found: RegExpExecArray | null;
  while ((found = pattern.exec(rest)) !== null) {
    const key = found[1];
    if (key === undefined) break;
    const quoted = found[2];
    params[key.toLowerCase()] =
      quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (found[3] ?? "");
    if (pattern.lastIndex >= rest.length) break;
  }
  return params;
}

/**
 * Grant storage: entries keyed by canonical server URL. `FileTokenStore` keeps
 * them in one JSON file, rewritten whole through a temp file created with mode 0600 and an
 * atomic rename, so a crash never leaves a torn file and the file is never world-readable. The
 * file is re-read on every call, so several processes and a hand edit are all seen.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { McpError } from "../errors.ts";
import type { TokenStore } from "../ports.ts";
import type { McpTokenEntry } from "../types.ts";
import { canonicalServerUrl } from "./canonical-url.ts";

const entrySchema = z.strictObject({
  clientId: z.string().min(1),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  expiresAt: z.number().int().positive().optional(),
  tokenEndpoint: z.string().min(1).optional(),
  resource: z.string().min(1).optional(),
});

const fileSchema = z.record(z.string(), entrySchema);

/** Copies only the defined fields, so `exactOptionalPropertyTypes` holds for what we return. */
function cleanEntry(entry: McpTokenEntry): McpTokenEntry {
  const out: McpTokenEntry = { clientId: entry.clientId, accessToken: entry.accessToken };
  if (entry.refreshToken !== undefined) out.refreshToken = entry.refreshToken;
  if (entry.expiresAt !== undefined) out.expiresAt = entry.expiresAt;
  if (entry.tokenEndpoint !== undefined) out.tokenEndpoint = entry.tokenEndpoint;
  if (entry.resource !== undefined) out.resource = entry.resource;
  return out;
}

/** Grants in memory only (tests, short-lived tools). */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, McpTokenEntry>();

  /** The stored grant for any spelling of `url`, or null. Throws `INVALID_URL`. */
  get(url: string): McpTokenEntry | null {
    const entry = this.#entries.get(canonicalServerUrl(url));
    return entry ? cleanEntry(entry) : null;
  }

  /** Stores the grant. Throws `INVALID_URL`. */
  set(url: string, entry: McpTokenEntry): void {
    this.#entries.set(canonicalServerUrl(url), cleanEntry(entry));
  }

  /** Removes the grant. Throws `INVALID_URL`. */
  delete(url: string): void {
    this.#entries.delete(canonicalServerUrl(url));
  }
}

/**
 * Grants in one JSON file (e.g. `<dataDir>/mcp_tokens.json`), mode 0600. Reads throw `INTERNAL`
 * (message contains `corrupt`) for a file that is not valid JSON of the right shape.
 */
export class FileTokenStore implements TokenStore {
  readonly #path: string;

  /** `path` is the file; its directory is created on first write. */
  constructor(path: string) {
    this.#path = path;
  }

  /** The stored grant for any spelling of `url`, or null. */
  get(url: string): McpTokenEntry | null {
    const entry = this.#read()[canonicalServerUrl(url)];
    return entry ? cleanEntry(entry) : null;
  }

  /** Stores the grant (rewrites the file atomically). */
  set(url: string, entry: McpTokenEntry): void {
    const key = canonicalServerUrl(url);
    const parsed = entrySchema.safeParse(cleanEntry(entry));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new McpError(
        "INTERNAL",
        `refusing to store an invalid token entry for ${key} (${issue ? `${issue.path.join(".")}: ${issue.message}` : "shape"})`,
      );
    }
    const all = this.#read();
    all[key] = cleanEntry(entry);
    this.#write(all);
  }

  /** Removes the grant (rewrites the file atomically). */
  delete(url: string): void {
    const key = canonicalServerUrl(url);
    const all = this.#read();
    if (!(key in all)) return;
    delete all[key];
    this.#write(all);
  }

  #read(): Record<string, McpTokenEntry> {
    let text: string;
    try {
      text = readFileSync(this.#path, "utf8");
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return {};
      throw new McpError(
        "INTERNAL",
        `cannot read the MCP token store ${this.#path}: ${(error as Error).message}`,
        {
          hint: "check the file's permissions",
          cause: error,
        },
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.#corrupt("it is not valid JSON");
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.#corrupt(
        issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "bad shape",
      );
    }
    const out: Record<string, McpTokenEntry> = {};
    for (const [key, entry] of Object.entries(parsed.data))
      out[key] = cleanEntry(entry as McpTokenEntry);
    return out;
  }

  #corrupt(reason: string): McpError {
    return new McpError("INTERNAL", `the MCP token store ${this.#path} is corrupt (${reason})`, {
      hint: `delete ${this.#path} and re-authorize each server with authorizeMcpServer (standalone: authorizeServer)`,
    });
  }

  #write(all: Record<string, McpTokenEntry>): void {
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temp = `${this.#path}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
      // The umask may have narrowed nothing but could widen nothing either; make 0600 explicit.
      chmodSync(temp, 0o600);
      renameSync(temp, this.#path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw new McpError(
        "INTERNAL",
        `cannot write the MCP token store ${this.#path}: ${(error as Error).message}`,
        {
          hint: "check that the directory is writable",
          cause: error,
        },
      );
    }
  }
}

/**
 * Grant storage: one entry per canonical server URL, an atomic 0600 file re-read on every call
 * (so a grant written by `authorizeMcpServer` is seen by a running engine), and a corrupt file
 * failing `INTERNAL` with a re-authorize hint instead of silently dropping grants.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMcpError, type McpError } from "../errors.ts";
import { FileTokenStore, MemoryTokenStore } from "./token-store.ts";

function storePath(): string {
  return join(mkdtempSync(join(tmpdir(), "promenade-mcp-store-")), "nested", "mcp_tokens.json");
}

function thrown(fn: () => unknown): McpError {
  try {
    fn();
  } catch (error) {
    expect(isMcpError(error)).toBe(true);
    return error as McpError;
  }
  throw new Error("expected a throw");
}

const entry = { clientId: "client-1", accessToken: "at-1", refreshToken: "rt-1", expiresAt: 1_000 };

describe.each([
  { name: "FileTokenStore", make: () => new FileTokenStore(storePath()) },
  { name: "MemoryTokenStore", make: () => new MemoryTokenStore() },
])("$name", ({ make }) => {
  it("maps every spelling of one URL to one entry and keeps ports distinct", () => {
    const store = make();
    expect(store.get("https://mcp.example.com/mcp")).toBeNull();
    store.set("HTTPS://MCP.Example.COM:443/mcp/", entry);
    expect(store.get("https://mcp.example.com/mcp")).toEqual(entry);
    expect(store.get("https://mcp.example.com:8443/mcp")).toBeNull();
    store.delete("https://mcp.example.com/mcp/");
    expect(store.get("https://mcp.example.com/mcp")).toBeNull();
  });

  it("rejects invalid URLs with INVALID_URL", () => {
    expect(thrown(() => make().get("not a url")).code).toBe("INVALID_URL");
  });
});

describe("FileTokenStore on disk", () => {
  it("writes 2-space JSON with a trailing newline, mode 0600, leaving no temp file", () => {
    const path = storePath();
    const store = new FileTokenStore(path);
    store.set("https://a.example/mcp", entry);
    store.set("https://b.example/mcp", { clientId: "c", accessToken: "t" });
    expect(readFileSync(path, "utf8")).toBe(
      `${JSON.stringify(
        {
          "https://a.example/mcp": entry,
          "https://b.example/mcp": { clientId: "c", accessToken: "t" },
        },
        null,
        2,
      )}\n`,
    );
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(path, "..")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("re-reads the file on every call", () => {
    const path = storePath();
    const first = new FileTokenStore(path);
    const second = new FileTokenStore(path);
    first.set("https://a.example/mcp", entry);
    expect(second.get("https://a.example/mcp")).toEqual(entry);
  });

  it("fails INTERNAL naming the file as corrupt, with a re-authorize hint", () => {
    const path = storePath();
    const store = new FileTokenStore(path);
    store.set("https://a.example/mcp", entry);
    writeFileSync(path, "{ not json");
    const badJson = thrown(() => store.get("https://a.example/mcp"));
    expect(badJson.code).toBe("INTERNAL");
    expect(badJson.message).toContain("corrupt");
    expect(badJson.message).toContain(path);
    expect(badJson.hint).toContain("authorizeMcpServer");

    writeFileSync(
      path,
      JSON.stringify({ "https://a.example/mcp": { clientId: "", accessToken: "x" } }),
    );
    expect(thrown(() => store.get("https://a.example/mcp")).message).toContain("corrupt");
    writeFileSync(path, JSON.stringify({ "https://a.example/mcp": { ...entry, surprise: true } }));
    expect(thrown(() => store.get("https://a.example/mcp")).code).toBe("INTERNAL");
  });
});

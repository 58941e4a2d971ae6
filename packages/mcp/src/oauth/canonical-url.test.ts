/**
 * Canonical server URLs key stored OAuth grants: if two spellings of one URL stop mapping to one
 * key, a user is asked to authorize again; if distinct ports collapse, grants leak across servers.
 */
import { describe, expect, it } from "vitest";
import { isMcpError } from "../errors.ts";
import { canonicalServerUrl } from "./canonical-url.ts";

describe("canonicalServerUrl", () => {
  it("lower-cases the host, drops default ports, trailing slashes, query and fragment", () => {
    expect(canonicalServerUrl("HTTPS://MCP.Example.COM:443/mcp/")).toBe(
      "https://mcp.example.com/mcp",
    );
    expect(canonicalServerUrl("https://mcp.example.com/mcp?x=1#y")).toBe(
      "https://mcp.example.com/mcp",
    );
    expect(canonicalServerUrl("http://Host:80//")).toBe("http://host");
  });

  it("keeps non-default ports distinct", () => {
    expect(canonicalServerUrl("https://mcp.example.com:8443/mcp")).toBe(
      "https://mcp.example.com:8443/mcp",
    );
  });

  it("throws INVALID_URL for something that is not an http(s) URL", () => {
    for (const bad of ["not-a-url", "ftp://example.com/x", ""]) {
      let caught: unknown;
      try {
        canonicalServerUrl(bad);
      } catch (error) {
        caught = error;
      }
      expect(isMcpError(caught) && caught.code).toBe("INVALID_URL");
    }
  });
});

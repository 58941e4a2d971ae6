/** The loop's small rules: tool summaries and text, code fences, memory paths, headers, backoff. */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { checkMemoryPath, memoryFilePath, memoryListing } from "./memory.ts";
import { backoffMs, mergeHeaders, parseToolArguments } from "./providers/http.ts";
import { stripFences } from "./schema.ts";
import { humanSummary, toolText } from "./tools.ts";

describe("tool text and summaries", () => {
  it("maps program return values to model text", () => {
    expect(toolText(undefined)).toBe("");
    expect(toolText(null)).toBe("");
    expect(toolText("as is")).toBe("as is");
    expect(toolText({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(toolText(42)).toBe("42");
  });

  it("flattens newlines and truncates at 120 characters with an ellipsis", () => {
    expect(humanSummary("a\nb")).toBe("a b");
    expect(humanSummary("x".repeat(120))).toBe("x".repeat(120));
    const long = humanSummary("y".repeat(121));
    expect(long).toBe(`${"y".repeat(117)}…`);
    expect(long).toHaveLength(118);
  });
});

describe("stripFences", () => {
  it("strips one json fence, case-insensitively, and trims", () => {
    expect(stripFences('  ```json\n{"a":1}\n```  ')).toBe('{"a":1}');
    expect(stripFences("```JSON\n[1]\n```")).toBe("[1]");
    expect(stripFences("```\n2\n```")).toBe("2");
    expect(stripFences('{"plain":true}')).toBe('{"plain":true}');
  });
});

describe("tool arguments", () => {
  it("parses objects, treats blank as {} and flags everything else", () => {
    expect(parseToolArguments("t", '{"n":1}')).toEqual({ input: { n: 1 } });
    expect(parseToolArguments("t", "  ")).toEqual({ input: {} });
    expect(parseToolArguments("t", "[1]").inputError).toContain("not a JSON object");
    expect(parseToolArguments("t", "{oops").inputError).toContain('"t"');
  });
});

describe("HTTP rules", () => {
  it("backs off 500·2^(n−1) plus jitter below 250 ms", () => {
    expect(backoffMs(1, () => 0)).toBe(500);
    expect(backoffMs(4, () => 0.999)).toBe(4249);
  });

  it("merges headers case-insensitively and always ends with the engine's content-type", () => {
    expect(
      mergeHeaders(
        { authorization: "Bearer a" },
        { Authorization: "Custom", "Content-Type": "text/plain" },
      ),
    ).toEqual({
      Authorization: "Custom",
      "content-type": "application/json",
    });
  });
});

describe("memory paths", () => {
  it("accepts workspace-relative dirs and rejects escapes", () => {
    for (const ok of ["mem", "mem/agent-a", "a.b/c", ".hidden/x", "a..b"])
      expect(checkMemoryPath(ok)).toBe(ok);
    for (const bad of ["", "/abs", "\\x", "a\\b", ".", "..", "a/./b", "a/../b", "a/.", "./a", 42]) {
      expect(() => checkMemoryPath(bad)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
    }
  });

  it("contains file paths lexically and through symlinks", () => {
    const root = mkdtempSync(join(tmpdir(), "mem-rules-"));
    try {
      const mem = join(root, "mem");
      mkdirSync(join(mem, "sub"), { recursive: true });
      mkdirSync(join(root, "outside"));
      symlinkSync(join(root, "outside"), join(mem, "out"));
      symlinkSync(join(mem, "sub"), join(mem, "inside-link"));
      expect(memoryFilePath(mem, "sub/new/deeper.md")).toBe(join(mem, "sub/new/deeper.md"));
      expect(memoryFilePath(mem, "inside-link/ok.md")).toBe(join(mem, "inside-link/ok.md"));
      expect(() => memoryFilePath(mem, "../x")).toThrow(/escapes the memory directory/);
      expect(() => memoryFilePath(mem, "out/x")).toThrow(/escapes the memory directory/);
      expect(() => memoryFilePath(mem, "/etc/passwd")).toThrow(/escapes the memory directory/);
      writeFileSync(join(mem, "b.md"), "bb");
      writeFileSync(join(mem, "a.md"), "a");
      writeFileSync(join(mem, "sub", "c.md"), "ccc");
      expect(memoryListing(mem)).toBe("a.md (1 bytes)\nb.md (2 bytes)\nsub/c.md (3 bytes)");
      expect(memoryListing(join(root, "missing"))).toBe("");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

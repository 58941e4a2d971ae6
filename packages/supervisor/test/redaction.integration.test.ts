// The parent-side redaction of a run's stdout, stderr, error and log lines: overlapping secrets
// become one token, and a secret that contains another is replaced whole even when it arrives
// in two chunks, so no part of either secret reaches an event or a log line.
import { afterEach, describe, expect, it } from "vitest";
import { createHarness } from "./harness.ts";
import type { Harness } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe("redaction of program output", () => {
  it("merges overlapping secrets into one token on stdout, stderr, the error and the logs", async () => {
    h = createHarness({
      env: new Map([
        ["ONE", "abcdef"],
        ["TWO", "defghi"],
      ]),
    });
    h.deploy(
      { slug: "overlap", permissions: { secrets: [{ name: "ONE" }, { name: "TWO" }] } },
      [
        'await secrets.get("ONE"); await secrets.get("TWO");',
        'process.stdout.write("<abc"); await sleep(10); process.stdout.write("defghi>\\n");',
        'console.error("<abcdefghi>");',
        'throw new Error("<abcdefghi>");',
      ].join("\n"),
    );
    const row = await h.run("overlap");
    expect(h.printed(row.id, "stdout")).toBe("<[redacted:ONE+TWO]>\n");
    expect(h.printed(row.id, "stderr")).toBe("<[redacted:ONE+TWO]>\n");
    expect(row.error?.message).toBe("<[redacted:ONE+TWO]>");
    const everything = JSON.stringify(h.events(row.id)) + h.logs.join("\n");
    expect(everything).not.toContain("ghi>");
    expect(everything).not.toContain("<abc");
  });

  it("merges overlapping secrets split across two stdout chunks at every position", async () => {
    h = createHarness({
      env: new Map([
        ["ONE", "abcdef"],
        ["TWO", "defghi"],
      ]),
    });
    const text = "<abcdefghi>";
    h.deploy(
      { slug: "split", permissions: { secrets: [{ name: "ONE" }, { name: "TWO" }] } },
      [
        'await secrets.get("ONE"); await secrets.get("TWO");',
        `const text = ${JSON.stringify(text)};`,
        "for (let at = 1; at < text.length; at++) {",
        "  process.stdout.write(text.slice(0, at)); await sleep(10);",
        '  process.stdout.write(text.slice(at) + "\\n"); await sleep(10);',
        "}",
        'phase("<abcdefghi>");',
      ].join("\n"),
    );
    const row = await h.run("split");
    expect(row.status).toBe("completed");
    const lines = h.printed(row.id, "stdout").split("\n");
    expect(lines).toEqual([
      ...Array.from({ length: text.length - 1 }, () => "<[redacted:ONE+TWO]>"),
      "",
    ]);
    const phases = h
      .events(row.id)
      .flatMap((e) => (e.event.kind === "phase" ? [e.event.name] : []));
    expect(phases).toContain("<[redacted:ONE+TWO]>");
    const everything = JSON.stringify(h.events(row.id)) + h.logs.join("\n");
    for (const part of ["abcd", "bcde", "cdef", "defg", "efgh", "fghi"]) {
      expect(everything).not.toContain(part);
    }
  });

  it("replaces a secret containing another whole when it arrives in two chunks", async () => {
    h = createHarness({
      env: new Map([
        ["SHORT", "abc12345"],
        ["LONG", "abc12345-extended-tail"],
      ]),
    });
    h.deploy(
      { slug: "nested", permissions: { secrets: [{ name: "SHORT" }, { name: "LONG" }] } },
      [
        'await secrets.get("SHORT"); await secrets.get("LONG");',
        'process.stdout.write("x abc12345"); await sleep(10);',
        'process.stdout.write("-extended-tail y abc12345 z\\n");',
      ].join("\n"),
    );
    const row = await h.run("nested");
    expect(row.status).toBe("completed");
    expect(h.printed(row.id, "stdout")).toBe("x [redacted:LONG] y [redacted:SHORT] z\n");
  });
});

/**
 * The small formatters: durations and ages, aligned tables measured without colour codes, the
 * colour switch (NO_COLOR, FORCE_COLOR, TERM=dumb, TTY) and the status line, which must write
 * nothing but the lines themselves when the output is not a terminal.
 */
import { describe, expect, it } from "vitest";
import { fakeIo } from "../../test/fake-io.ts";
import { colorEnabled, createStyle, stripAnsi } from "./color.ts";
import { StatusLine } from "./status-line.ts";
import { renderTable } from "./table.ts";
import { formatAge, formatDuration } from "./time.ts";

describe("time", () => {
  it("formats durations and ages compactly", () => {
    expect([850, 4210, 192_000, 3_780_000].map(formatDuration)).toEqual([
      "850ms",
      "4.2s",
      "3m 12s",
      "1h 03m",
    ]);
    const now = 10_000_000_000;
    expect(
      [5_000, 180_000, 7_200_000, 3 * 86_400_000].map((ago) => formatAge(now - ago, now)),
    ).toEqual(["5s ago", "3m ago", "2h ago", "3d ago"]);
  });
});

describe("renderTable", () => {
  it("aligns columns by visible width, ignoring colour codes", () => {
    const style = createStyle(true);
    const table = renderTable(
      ["A", "BB"],
      [
        [style.red("xxx"), "y"],
        ["z", "long"],
      ],
    );
    expect(stripAnsi(table).split("\n")).toEqual(["A    BB", "xxx  y", "z    long", ""]);
  });
});

describe("colorEnabled", () => {
  it("follows the TTY unless NO_COLOR, FORCE_COLOR or TERM=dumb say otherwise", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });
});

describe("StatusLine", () => {
  it("writes only the printed lines when disabled", () => {
    const io = fakeIo();
    const line = new StatusLine(io.stderr, () => "running");
    line.start();
    line.print(io.stderr, ["a", "b"]);
    line.stop();
    expect(io.err()).toBe("a\nb\n");
  });

  it("erases and redraws itself around printed lines on a terminal", () => {
    const io = fakeIo({ tty: true });
    const line = new StatusLine(io.stderr, () => "running");
    line.start();
    line.print(io.stderr, ["event"]);
    line.stop();
    const text = io.err();
    expect(text).toContain("\r\u001b[2K⠋ running");
    expect(text).toContain("\r\u001b[2Kevent\n");
    expect(text.endsWith("\r\u001b[2K")).toBe(true);
  });
});

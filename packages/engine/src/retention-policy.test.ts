/**
 * The retention policy language: what each accepted form means, and that every bad value is
 * refused with a message naming where it came from and an example. What would break: a typo in
 * `PROMENADE_RETENTION` silently keeping everything (or deleting everything).
 */
import { describe, expect, it } from "vitest";
import { parseRetentionPolicy } from "./retention-policy.ts";

const DAY = 86_400_000;

describe("parseRetentionPolicy", () => {
  it.each([
    ["30d", { maxAgeMs: 30 * DAY, keepLast: null, text: "30d" }],
    ["12h", { maxAgeMs: 12 * 3_600_000, keepLast: null, text: "12h" }],
    ["90m", { maxAgeMs: 90 * 60_000, keepLast: null, text: "90m" }],
    ["2w", { maxAgeMs: 14 * DAY, keepLast: null, text: "2w" }],
    ["last 500", { maxAgeMs: null, keepLast: 500, text: "last 500" }],
    [" 30D ,  LAST 1000 ", { maxAgeMs: 30 * DAY, keepLast: 1000, text: "30d, last 1000" }],
    ["last 5, 7d", { maxAgeMs: 7 * DAY, keepLast: 5, text: "7d, last 5" }],
    ["off", { maxAgeMs: null, keepLast: null, text: "off" }],
  ])("reads %j", (text, expected) => {
    expect(parseRetentionPolicy(text, "PROMENADE_RETENTION")).toEqual(expected);
  });

  it.each([
    ["", "it is empty"],
    ["30x", '"30x" is neither a duration'],
    ["30", '"30" is neither a duration'],
    ["0d", "must be at least 1"],
    ["last 0", "must keep at least 1 run"],
    ["last", '"last" is neither a duration'],
    ["30d, 12h", "two durations"],
    ["last 1, last 2", 'two "last" limits'],
    ["30d,", "an empty part"],
  ])("refuses %j naming the variable, the problem and an example", (text, problem) => {
    let caught: unknown;
    try {
      parseRetentionPolicy(text, "PROMENADE_RETENTION");
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "VALIDATION" });
    const { message, hint } = caught as { message: string; hint: string };
    expect(message).toContain(
      `PROMENADE_RETENTION ${JSON.stringify(text)} is not a retention policy`,
    );
    expect(message).toContain(problem);
    expect(hint).toContain('"30d, last 1000"');
  });

  it("refuses a value that is not a string, naming where it came from", () => {
    expect(() => parseRetentionPolicy(30, "config.retention")).toThrow(
      /config\.retention must be a string retention policy, got number/,
    );
  });
});

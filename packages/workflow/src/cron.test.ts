// The deploy-time cron grammar: anything accepted here must be fireable by the scheduler, and a
// typo must fail at deploy with the field named, not silently at the first fire.
import { describe, expect, it } from "vitest";
import { cronExpressionProblem, isKnownTimeZone } from "./cron.ts";

describe("cronExpressionProblem", () => {
  it.each([
    "0 9 * * 1-5",
    "0 0 9 * * 1",
    "*/15 * * * *",
    "0 0 1,15 * *",
    "5/10 * * * *",
    "0 12 * JAN-mar mon-FRI",
    "0 0 * * 7",
    "0 0 30 2 *",
    "  0   9 * * *  ",
    "59 59 23 31 12 SAT",
    "1-5/2 * * * *",
  ])("accepts %j", (expr) => {
    expect(cronExpressionProblem(expr)).toBeUndefined();
  });

  it.each([
    ["9 * *", /5 fields/],
    ["", /got 0/],
    ["1 2 3 4 5 6 7", /got 7/],
    ["61 * * * *", /minute field "61": 61 is out of range 0-59/],
    ["* * * * 8", /day-of-week field "8"/],
    ["* 24 * * *", /hour/],
    ["* * 0 * *", /day-of-month/],
    ["* * * 13 *", /month/],
    ["60 * * * * *", /second/],
    ["* * ? * *", /not a number/],
    ["* * L * *", /not a number/],
    ["* * * * 1#2", /not a number/],
    ["@daily", /5 fields/],
    ["1,,2 * * * *", /empty list item/],
    ["*/0 * * * *", /step "0"/],
    ["*/x * * * *", /step "x"/],
    ["5-1 * * * *", /low to high/],
    ["1-2-3 * * * *", /range/],
    ["* * * JANUARY *", /month name/],
    ["-1 * * * *", /not a number/],
    ["1/2/3 * * * *", /more than one/],
  ])("rejects %j", (expr, message) => {
    expect(cronExpressionProblem(expr)).toMatch(message);
  });
});

describe("isKnownTimeZone", () => {
  it("accepts IANA zones and rejects made-up ones", () => {
    expect(isKnownTimeZone("America/Anchorage")).toBe(true);
    expect(isKnownTimeZone("UTC")).toBe(true);
    expect(isKnownTimeZone("Mars/Olympus")).toBe(false);
  });
});

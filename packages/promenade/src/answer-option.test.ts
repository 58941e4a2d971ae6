/**
 * `promenade respond --value` → the answer the server expects: a JSON object passes whole, text
 * and choice gates get `{ value }` (a JSON string unquoted, anything else taken as typed),
 * multiselect gates get `{ values }` from a JSON array or one text. If this breaks, a person
 * typing the obvious answer gets a 400 about the answer's shape instead of their run continuing.
 */
import { describe, expect, it } from "vitest";
import { answerFor, answerObject } from "./answer-option.ts";
import { CliError } from "./errors.ts";

const TEXT = { kind: "text" };
const CHOICE = { kind: "choice", options: ["Ship", "Wait"] };
const MULTI = { kind: "multiselect", options: ["eu", "us", "ap"], min: 1, max: 2 };

describe("answerFor", () => {
  it("sends a JSON object as the whole answer, whatever the gate", () => {
    expect(answerObject('{"value":"Later","isOther":true}')).toEqual({
      value: "Later",
      isOther: true,
    });
    expect(answerFor(CHOICE, '{"value":"Later","isOther":true}')).toEqual({
      value: "Later",
      isOther: true,
    });
    expect(answerFor(MULTI, '{"values":["eu"],"other":"mars"}')).toEqual({
      values: ["eu"],
      other: "mars",
    });
    expect(answerObject("Ship")).toBeNull();
    expect(answerObject("[1]")).toBeNull();
  });

  it("gives text and choice gates { value } with the text as typed, a JSON string unquoted", () => {
    expect(answerFor(TEXT, "looks good to me")).toEqual({ value: "looks good to me" });
    expect(answerFor(TEXT, '"quoted"')).toEqual({ value: "quoted" });
    expect(answerFor(TEXT, "42")).toEqual({ value: "42" });
    expect(answerFor(TEXT, "")).toEqual({ value: "" });
    expect(answerFor(CHOICE, "Ship")).toEqual({ value: "Ship" });
    expect(answerFor(CHOICE, "[not json")).toEqual({ value: "[not json" });
  });

  it("gives multiselect gates { values } from a JSON array or one option", () => {
    expect(answerFor(MULTI, '["eu","us"]')).toEqual({ values: ["eu", "us"] });
    expect(answerFor(MULTI, "eu")).toEqual({ values: ["eu"] });
    expect(answerFor(MULTI, '"us"')).toEqual({ values: ["us"] });
  });

  it("asks for a JSON object when the gate's kind is unknown", () => {
    expect(() => answerFor({ kind: "rating" }, "5")).toThrow(CliError);
    expect(() => answerFor(null, "5")).toThrow(/unknown to this version of promenade/);
    expect(answerFor({ kind: "rating" }, '{"stars":5}')).toEqual({ stars: 5 });
  });
});

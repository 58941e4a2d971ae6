/**
 * Human-input requests in the `promenade inputs` table: the answer form and the answer given, in
 * a few words. If this breaks, the inbox table stops saying what a person may answer.
 */
import { describe, expect, it } from "vitest";
import { describeAnswer, describeForm } from "./input-form.ts";

const TEXT = { kind: "text" };
const CHOICE = { kind: "choice", options: ["Ship", "Wait"] };
const MULTI = { kind: "multiselect", options: ["eu", "us", "ap"], min: 1, max: 2 };

describe("describeForm and describeAnswer", () => {
  it("names the form in a few words", () => {
    expect(describeForm(TEXT)).toBe("text");
    expect(describeForm({ kind: "text", required: true })).toBe("text (required)");
    expect(describeForm(CHOICE)).toBe("choice: Ship | Wait (or other)");
    expect(describeForm({ ...CHOICE, allowOther: false })).toBe("choice: Ship | Wait");
    expect(describeForm({ ...MULTI, allowOther: false })).toBe("multiselect 1-2: eu | us | ap");
    expect(describeForm({ kind: "rating" })).toBe("rating");
  });

  it("shows an answer on one line, free text quoted", () => {
    expect(describeAnswer(null)).toBe("");
    expect(describeAnswer({ value: "fine" })).toBe("fine");
    expect(describeAnswer({ value: "Ship", isOther: false })).toBe("Ship");
    expect(describeAnswer({ value: "Later", isOther: true })).toBe('"Later"');
    expect(describeAnswer({ values: ["eu", "us"] })).toBe("eu, us");
    expect(describeAnswer({ values: ["eu"], other: "mars" })).toBe('eu + "mars"');
    expect(describeAnswer({ values: [], other: "mars" })).toBe('"mars"');
    expect(describeAnswer(7)).toBe("7");
  });
});

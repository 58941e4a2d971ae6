/**
 * Human input in real Chromium: the Inbox lists pending requests live (one appears without a
 * reload as soon as a run asks, one answered elsewhere disappears), answering from the Inbox
 * completes the run, and the run page renders the answer form from the gate's form (a
 * multi-select with its min/max), shows the engine's refusal of a bad answer, then the answered
 * history. Screenshots land in /work/artifacts/human-input/ for a human to look at.
 */
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "./chromium.ts";
import { http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const ARTIFACTS = "/work/artifacts/human-input";

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness(
    {},
    {
      behaviors: {
        "release-approval": async (run) => {
          run.log("release 1.4 is built and tested\n");
          const decision = await run.humanInput({
            key: "ship",
            prompt: "Ship release 1.4 to production?",
            input: { kind: "choice", options: ["Ship", "Hold"], otherLabel: "Something else…" },
          });
          run.log("got an answer\n");
          return decision;
        },
        "ticket-triage": async (run) =>
          run.humanInput({
            key: "labels",
            prompt: "Which labels fit ticket #4711?",
            input: { kind: "multiselect", options: ["bug", "ui", "backend"], min: 1, max: 2 },
          }),
      },
    },
  );
  h.engine.addWorkflow({ slug: "release-approval", title: "Release approval" });
  h.engine.addWorkflow({ slug: "ticket-triage", title: "Ticket triage" });
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("human input in the UI", () => {
  it("shows a request in the Inbox as soon as it is asked and completes the run from the page", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${h.base}/#/inbox`);
    await page.waitForSelector("#inbox-empty:not([hidden])");

    // Asked while the page is open: it appears without a reload.
    const run = await h.engine.startRun("release-approval", { triggerKind: "manual" });
    const card = `.inbox-item[data-run-id='${run.id}']`;
    await page.waitForSelector(card);
    expect(await page.textContent(card)).toContain("Ship release 1.4 to production?");
    expect(await page.textContent(`${card} .workflow`)).toBe("release-approval");
    expect(await page.isHidden("#inbox-empty")).toBe(true);

    // A second request, answered elsewhere (the API), disappears live.
    const other = await h.engine.startRun("release-approval", { triggerKind: "manual" });
    await page.waitForSelector(`.inbox-item[data-run-id='${other.id}']`);
    await page.screenshot({ path: `${ARTIFACTS}/01-inbox.png`, fullPage: true });
    const elsewhere = await http(h, "POST", `/api/runs/${other.id}/inputs/ship`, {
      body: '{"value": {"value": "Hold"}}',
      headers: { "content-type": "application/json" },
    });
    expect(elsewhere.status).toBe(200);
    await page.waitForSelector(`.inbox-item[data-run-id='${other.id}']`, { state: "detached" });

    // Answer from the page: "Something else…" with free text, as the gate allows.
    await page.fill(`${card} .other-text`, "Ship on Monday");
    expect(await page.isChecked(`${card} input.other`)).toBe(true);
    await page.click(`${card} button.answer`);
    await page.waitForSelector(card, { state: "detached" });
    const done = await h.engine.waitForRun(run.id);
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ value: "Ship on Monday", isOther: true });
    await page.waitForSelector("#inbox-empty:not([hidden])");
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it("renders the form on the run page, shows a refused answer, then the answered history", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    const run = await h.engine.startRun("ticket-triage", { triggerKind: "manual" });
    await page.goto(`${h.base}/#/runs/${run.id}`);
    const form = "#run-inputs form.input-form[data-key='labels']";
    await page.waitForSelector(form);
    await page.waitForSelector("#run-status .badge[data-status='awaiting_input']");
    expect(await page.textContent(form)).toContain("Select at least 1 and at most 2.");
    for (const label of ["bug", "ui", "backend"]) {
      await page.check(`${form} input[value='${label}']`);
    }
    await page.click(`${form} button.answer`);
    await page.waitForSelector(`${form} .error-text:has-text("select at most 2")`);
    await page.screenshot({ path: `${ARTIFACTS}/02-run-page-refused.png`, fullPage: true });
    expect(h.engine.peekRun(run.id)?.status).toBe("awaiting_input");

    await page.uncheck(`${form} input[value='backend']`);
    await page.click(`${form} button.answer`);
    await page.waitForSelector("#input-history tr[data-key='labels'][data-status='resolved']");
    await page.waitForSelector("#run-status .badge[data-status='completed']");
    expect(await page.textContent("#input-history")).toContain('{"values":["bug","ui"]}');
    expect((await h.engine.waitForRun(run.id)).output).toEqual({ values: ["bug", "ui"] });
    await page.screenshot({ path: `${ARTIFACTS}/03-run-page-answered.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

/**
 * The UI's router in real Chromium: a page whose API answer arrives after the user has moved on
 * draws nothing — a slow workflows list does not replace the run page opened meanwhile. If this
 * breaks, a quick click lands on a page that a moment later turns into the one left behind.
 */
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "./chromium.ts";
import { startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness();
  h.engine.addWorkflow({ slug: "ingest", description: "Pulls the feeds." });
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("navigating while a page waits for the API", () => {
  it("keeps the page the user moved to when the one left behind gets its answer", async () => {
    const run = await h.engine.startRun("ingest", { triggerKind: "manual" });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    // The workflows list answers only once the test lets it.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = (): void => undefined;
    const listAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    await page.route("**/api/workflows", async (route) => {
      asked();
      await held;
      await route.continue();
    });
    await page.goto(`${h.base}/#/`);
    await listAsked;
    await page.evaluate(`location.hash = ${JSON.stringify(`#/runs/${run.id}`)}`);
    await page.waitForSelector("#run-header");
    const answered = page.waitForResponse("**/api/workflows");
    release();
    await answered;
    // The late answer's render would have run by now: give the page a few frames to show it.
    await page.evaluate(
      "new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))",
    );
    await page.waitForTimeout(200);
    expect(await page.isVisible("#run-header")).toBe(true);
    expect(await page.textContent("h1")).not.toBe("Workflows");
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

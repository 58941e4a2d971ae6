/**
 * The runs page in real Chromium against the fake engine: one page at a time with older/newer
 * paging, status chips, a creation-date range and a search by run id — every filter applied by
 * the server and kept in the URL — live updates on the first page, and the page in dark mode and
 * at phone width (375 px). Screenshots land in test-artifacts/ (gitignored) for a person to look
 * at. If this breaks, finding one run among thousands means scrolling.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "./chromium.ts";
import { startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const DAY = 86_400_000;
/** 2025-03-01T00:00:00Z; runs are created over the five days from here. */
const T0 = Date.UTC(2025, 2, 1);

let h: Harness;
let browser: Browser;
let clock = T0;
/** Every run, newest first, with the day (0-4) it was created on. */
const made: { id: string; day: number; status: string; slug: string }[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness({}, { now: () => clock });
  h.engine.addWorkflow({ slug: "ingest", description: "Pulls the feeds." });
  h.engine.addWorkflow({ slug: "report", description: "Writes the report." });
  const statuses = ["completed", "completed", "failed", "completed", "cancelled"] as const;
  for (let i = 0; i < 60; i++) {
    const day = Math.floor(i / 12);
    clock = T0 + day * DAY + 3_600_000 + i * 60_000;
    const slug = i % 3 === 0 ? "report" : "ingest";
    const run = await h.engine.startRun(slug, { triggerKind: i % 4 === 0 ? "webhook" : "manual" });
    const status = statuses[i % statuses.length]!;
    h.engine.setStatus(run.id, "running");
    clock += 1500 + (i % 7) * 900;
    h.engine.setStatus(
      run.id,
      status,
      status === "failed" ? { error: { code: "PROGRAM_ERROR", message: "feed 3 timed out" } } : {},
    );
    made.unshift({ id: run.id, day, status, slug });
  }
  clock = T0 + 5 * DAY;
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const listed = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>(
    "[...document.querySelectorAll('#runs tbody tr')].map((row) => row.dataset.runId)",
  );

/** Waits for the list the page asked the server for (a new one after each navigation). */
async function loaded(page: Page): Promise<void> {
  // The list rendered for the current address: right after a navigation the previous list is
  // still in the page (and loaded) until the new one replaces it.
  const hash = await page.evaluate<string>("location.hash");
  await page.waitForSelector(`#runs[data-loaded='true'][data-hash=${JSON.stringify(hash)}]`);
}

async function openRuns(page: Page, hash = "#/runs"): Promise<void> {
  await page.goto(`${h.base}/${hash}`);
  await loaded(page);
}

describe("runs page", () => {
  it("pages, filters by status chips and dates, searches by id, and grows live", async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      timezoneId: "UTC",
      locale: "en-GB",
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));

    // Paging: 50 per page, older and newer.
    await openRuns(page);
    expect(await listed(page)).toEqual(made.slice(0, 50).map((r) => r.id));
    expect(await page.textContent("#page-label")).toBe("page 1 · 1–50");
    expect(await page.isDisabled("#page-newer")).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/09-runs.png` });
    await page.click("#page-older");
    await page.waitForURL(/page=2/);
    await page.waitForSelector("#page-label >> text=page 2 · 51–60");
    expect(await listed(page)).toEqual(made.slice(50).map((r) => r.id));
    expect(await page.isDisabled("#page-older")).toBe(true);
    await page.click("#page-newer");
    await page.waitForSelector("#page-label >> text=page 1 · 1–50");
    await page.selectOption("#page-size", "25");
    await page.waitForSelector("#page-label >> text=page 1 · 1–25");
    await page.click("#page-older");
    await page.waitForSelector("#page-label >> text=page 2 · 26–50");
    await page.click("#page-older");
    await page.waitForSelector("#page-label >> text=page 3 · 51–60");
    await page.click("#page-newer");
    await page.waitForSelector("#page-label >> text=page 2 · 26–50");
    expect(await listed(page)).toEqual(made.slice(25, 50).map((r) => r.id));

    // Status chips, on and off, kept in the URL and applied by the server.
    await openRuns(page);
    await page.click("#status-chips .chip[data-status='failed']");
    await page.waitForURL(/status=failed$/);
    await loaded(page);
    await page.waitForSelector("#status-chips .chip.on[data-status='failed']");
    const failed = made.filter((r) => r.status === "failed");
    expect(await listed(page)).toEqual(failed.map((r) => r.id));
    await page.click("#status-chips .chip[data-status='cancelled']");
    await page.waitForURL(/status=failed%2Ccancelled|status=failed,cancelled/);
    await loaded(page);
    await page.waitForSelector("#status-chips .chip.on[data-status='cancelled']");
    expect(await listed(page)).toEqual(
      made.filter((r) => r.status === "failed" || r.status === "cancelled").map((r) => r.id),
    );
    expect(
      await page.getAttribute("#status-chips .chip[data-status='failed']", "aria-pressed"),
    ).toBe("true");
    await page.screenshot({ path: `${ARTIFACTS}/10-runs-status-chips.png` });
    await page.click("#status-clear");
    await page.waitForURL(/#\/runs$/);
    // The date inputs below belong to the cleared list's page: until it replaces the filtered
    // one, a date typed there would keep the filtered page's statuses.
    await loaded(page);

    // A creation-date range (both days included), with a workflow.
    await page.fill("#filter-from", "2025-03-02");
    await page.waitForURL(/from=2025-03-02/);
    await loaded(page);
    await page.fill("#filter-to", "2025-03-03");
    await page.waitForURL(/to=2025-03-03/);
    await loaded(page);
    const inRange = made.filter((r) => r.day === 1 || r.day === 2);
    expect(await listed(page)).toEqual(inRange.map((r) => r.id));
    await page.selectOption("#filter-workflow", "report");
    await page.waitForURL(/workflow=report/);
    await loaded(page);
    expect(await listed(page)).toEqual(inRange.filter((r) => r.slug === "report").map((r) => r.id));
    await page.screenshot({ path: `${ARTIFACTS}/11-runs-date-range.png` });
    await page.click("#filters-clear");
    await page.waitForURL(/#\/runs$/);
    await loaded(page);

    // Search by id: a pasted run link finds the run; an unknown id says so; junk is explained.
    const target = made[37]!;
    await page.fill("#run-search", `  ${h.base}/#/runs/${target.id.toLowerCase()} `);
    await page.press("#run-search", "Enter");
    await page.waitForURL(new RegExp(`id=${target.id}$`));
    await loaded(page);
    expect(await listed(page)).toEqual([target.id]);
    await page.screenshot({ path: `${ARTIFACTS}/12-runs-search.png` });
    await page.fill("#run-search", "01JDA7Q3M8X2ZC4K9T5VQW1HNB");
    await page.press("#run-search", "Enter");
    await page.waitForSelector("#runs-empty:not([hidden])");
    expect(await page.textContent("#runs-empty")).toBe(
      "No run with id 01JDA7Q3M8X2ZC4K9T5VQW1HNB.",
    );
    await page.fill("#run-search", "01JDA7");
    await page.press("#run-search", "Enter");
    expect(await page.textContent("#run-search-note")).toContain("26 letters and digits");

    // Live: a new run appears at the top of the first page, which stays one page long.
    await openRuns(page, "#/runs?size=25");
    clock = T0 + 5 * DAY + 60_000;
    const fresh = await h.engine.startRun("ingest", { triggerKind: "manual" });
    await page.waitForSelector(`#runs tbody tr:first-child[data-run-id='${fresh.id}']`);
    expect(await page.locator("#runs tbody tr").count()).toBe(25);
    h.engine.setStatus(fresh.id, "running");
    await page.waitForSelector(`#runs tr[data-run-id='${fresh.id}'][data-status='running']`);
    h.engine.setStatus(fresh.id, "completed");
    await page.waitForSelector(`#runs tr[data-run-id='${fresh.id}'][data-status='completed']`);
    await page.click("#page-older");
    await page.waitForSelector("#page-label >> text=page 2 · 26–50");
    expect((await listed(page))[0]).toBe(made[24]!.id);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("follows the system dark mode and lays runs out as cards at 375 px", async () => {
    const dark = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "dark",
      timezoneId: "UTC",
    });
    const page = await dark.newPage();
    await openRuns(page, "#/runs?status=failed,completed&size=25");
    const background = await page.evaluate(
      "getComputedStyle(document.documentElement).backgroundColor",
    );
    expect(background).toBe("rgb(13, 17, 23)");
    await page.screenshot({ path: `${ARTIFACTS}/13-runs-dark.png` });
    await dark.close();

    for (const colorScheme of ["light", "dark"] as const) {
      const phone = await browser.newContext({
        viewport: { width: 375, height: 812 },
        isMobile: true,
        colorScheme,
        timezoneId: "UTC",
      });
      const small = await phone.newPage();
      await openRuns(small, "#/runs?size=25");
      const overflow = await small.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      expect(overflow).toBeLessThanOrEqual(0);
      // Each run is a card: the header row is hidden and the cells are labelled.
      expect(await small.isHidden("#runs thead")).toBe(true);
      const card = small.locator("#runs tbody tr").first();
      const box = await card.boundingBox();
      expect(box!.width).toBeLessThanOrEqual(375);
      expect(await card.textContent()).toContain((await listed(small))[0]);
      await small.screenshot({ path: `${ARTIFACTS}/14-runs-phone-${colorScheme}.png` });
      await phone.close();
    }
  });
});

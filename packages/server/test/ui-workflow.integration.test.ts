/**
 * The workflow page in real Chromium against the fake engine: source, manifest, each cron
 * trigger's next fire shown in its own time zone, the webhook URL copied to the clipboard, the
 * recent runs growing live, and the page at phone width and in dark mode. Screenshots land in
 * test-artifacts/ (gitignored) for a person to look at. If this breaks, an operator can no longer
 * see from one page how a workflow starts and what it did lately.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextFire, parseSchedule } from "@promenade/scheduler";
import { chromiumLaunchOptions } from "./chromium.ts";
import { http, startHarness } from "./helpers.ts";
import type { Harness } from "./helpers.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

const PROGRAM = [
  "export const meta = {",
  '  "slug": "morning-brief",',
  '  "title": "Morning brief",',
  '  "description": "Summarises the overnight news before the team starts.",',
  '  "triggers": [',
  '    { "kind": "cron", "expr": "0 7 * * 1-5", "timezone": "Europe/Paris" },',
  '    { "kind": "webhook", "auth": "token" },',
  '    { "kind": "manual" }',
  "  ]",
  "};",
  "",
  "export default async function brief({ agent, phase }) {",
  '  phase("gather");',
  '  return await agent("Summarise the overnight news.");',
  "}",
].join("\n");

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness(
    {},
    {
      behaviors: {
        "morning-brief": async (run) => {
          await run.sleep(1);
          run.phase("gather");
          run.agentTurn({
            text: ["Three stories."],
            usage: { inputTokens: 1200, outputTokens: 300 },
            call: { model: "gpt-4o-mini", usdMicros: 360 },
          });
          return { stories: 3 };
        },
      },
      nextCronFire: (expr, timezone, afterMs) => nextFire(parseSchedule(expr, timezone), afterMs),
    },
  );
  await h.engine.deployWorkflow({ program: PROGRAM, config: { region: "eu" } });
  for (let i = 0; i < 3; i++) {
    const run = await h.engine.startRun("morning-brief", { triggerKind: "manual" });
    await h.engine.waitForRun(run.id);
  }
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("workflow page", () => {
  it("shows source, manifest, the next cron fire in its zone, a copyable webhook URL and recent runs", async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 1000 },
      locale: "en-GB",
      timezoneId: "America/New_York",
      permissions: ["clipboard-read", "clipboard-write"],
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));

    // From the workflows list, a row opens the workflow's page.
    await page.goto(`${h.base}/`);
    await page.click("#workflows tr[data-slug='morning-brief'] td:nth-child(2)");
    await page.waitForURL(/#\/workflows\/morning-brief$/);
    await page.waitForSelector("#wf-source[data-loaded='true']");

    expect(await page.textContent("#wf-title")).toBe("Workflow morning-brief");
    expect(await page.textContent(".wf-about")).toContain("Summarises the overnight news");

    // The next fire of the cron trigger, read in Paris whatever the browser's own zone.
    const detail = (await http(h, "GET", "/api/workflows/morning-brief")).json.workflow;
    const nextFireAt: number = detail.schedules[0].nextFireAt;
    const cron = page.locator("#wf-triggers li[data-kind='cron'] .next-fire");
    expect(await cron.getAttribute("data-at")).toBe(String(nextFireAt));
    const shown = (await cron.locator("strong").textContent()) ?? "";
    expect(shown).toContain("07:00");
    expect(shown).toMatch(/CES?T/);
    const parisDay = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Europe/Paris",
      weekday: "short",
    }).format(new Date(nextFireAt));
    expect(["Mon", "Tue", "Wed", "Thu", "Fri"]).toContain(parisDay);
    expect(shown.startsWith(parisDay)).toBe(true);

    // The webhook URL, copied exactly.
    const url = `${h.base}/hooks/morning-brief/1`;
    expect(await page.textContent("#webhook-url-1")).toBe(url);
    expect(await page.textContent("#wf-triggers li[data-kind='webhook']")).toContain(
      "PROMENADE_WEBHOOK_TOKEN__MORNING_BRIEF",
    );
    await page.click("#copy-webhook-1");
    await page.waitForSelector("#copy-webhook-1[data-copied='true']");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(url);

    // Manifest and config as JSON, the manifest copyable; the source as deployed.
    expect(JSON.parse((await page.textContent("#wf-manifest pre")) ?? "")).toEqual(detail.manifest);
    await page.click("#wf-manifest button.copy");
    const copied: unknown = await page.evaluate("navigator.clipboard.readText()");
    expect(JSON.parse(String(copied))).toEqual(detail.manifest);
    await page.click("#wf-config summary");
    expect(JSON.parse((await page.textContent("#wf-config pre")) ?? "")).toEqual({ region: "eu" });
    expect(await page.textContent("#wf-source")).toBe(PROGRAM);
    await page.click("#copy-source");
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(PROGRAM);

    // Versions: the one deploy so far, current.
    await page.waitForSelector("#wf-versions li[data-number='1']");
    expect(await page.textContent("#wf-versions li[data-number='1']")).toContain("v1 (current)");
    expect(await page.locator("#wf-versions li").count()).toBe(1);

    // Recent runs, newest first, and a new run appears live.
    expect(await page.locator("#wf-runs tbody tr").count()).toBe(3);
    const fresh = await h.engine.startRun("morning-brief", { triggerKind: "webhook" });
    await page.waitForSelector(`#wf-runs tr[data-run-id='${fresh.id}']`);
    await h.engine.waitForRun(fresh.id);
    await page.waitForSelector(`#wf-runs tr[data-run-id='${fresh.id}'][data-status='completed']`);
    expect(await page.locator("#wf-runs tbody tr").first().getAttribute("data-run-id")).toBe(
      fresh.id,
    );
    expect(await page.textContent(`#wf-runs tr[data-run-id='${fresh.id}']`)).toContain("webhook");
    await page.screenshot({ path: `${ARTIFACTS}/07-workflow.png`, fullPage: true });

    // "All runs" opens the runs list filtered on this workflow.
    await page.click(".page-head a[href='#/runs?workflow=morning-brief']");
    await page.waitForURL(/#\/runs\?workflow=morning-brief$/);
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it("fits a 375 px phone screen and follows the system dark mode", async () => {
    const phone = await browser.newContext({
      viewport: { width: 375, height: 812 },
      isMobile: true,
      colorScheme: "dark",
      locale: "en-GB",
    });
    const page = await phone.newPage();
    await page.goto(`${h.base}/#/workflows/morning-brief`);
    await page.waitForSelector("#wf-source[data-loaded='true']");
    const overflow = await page.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    );
    expect(overflow).toBeLessThanOrEqual(0);
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).not.toBe("rgb(255, 255, 255)");
    await page.screenshot({ path: `${ARTIFACTS}/08-workflow-phone-dark.png`, fullPage: true });
    await phone.close();
  });
});

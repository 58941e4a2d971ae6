/**
 * Workflow files the binary could not deploy at boot (a bad cron, an unknown meta key, a syntax
 * error) are listed by `GET /api/workflows` as `skipped: [{ file, error }]` next to the deployed
 * ones, and the Workflows page in real Chromium shows them with their errors — also when no file
 * deployed, instead of "No workflows deployed yet". Before, they appeared only in the terminal.
 */
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { json, start, stopServers, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const GOOD = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "good", triggers: [{ kind: "manual" }] };',
  "output(1);",
  "",
].join("\n");
const BAD_CRON =
  'export const meta = { slug: "bad-cron", triggers: [{ kind: "cron", expr: "61 * * * *" }] };\n';
const UNKNOWN_KEY =
  'export const meta = { slug: "odd", triggerz: [], triggers: [{ kind: "manual" }] };\n';
const SYNTAX =
  'export const meta = { slug: "broken", triggers: [{ kind: "manual" }] };\nconst = ;\n';

interface Listing {
  workflows: { slug: string }[];
  skipped: { file: string; error: string }[];
}

async function boot(files: Record<string, string>): Promise<string> {
  const { dataDir, workflowsDir } = workspaceWith(files);
  const s = start({
    PROMENADE_DATA_DIR: dataDir,
    PROMENADE_WORKFLOWS_DIR: workflowsDir,
    PROMENADE_PORT: "0",
  });
  return s.base;
}

describe("skipped workflow files", () => {
  it("are listed by the API with their errors and shown on the Workflows page", async () => {
    const base = await boot({
      "good.mjs": GOOD,
      "bad-cron.mjs": BAD_CRON,
      "odd.mjs": UNKNOWN_KEY,
      "broken.ts": SYNTAX,
    });
    const listing = (await json(`${base}/api/workflows`)) as Listing;
    expect(listing.workflows.map((wf) => wf.slug)).toEqual(["good"]);
    const byFile = new Map(listing.skipped.map((entry) => [entry.file, entry.error]));
    expect([...byFile.keys()].sort()).toEqual(["bad-cron.mjs", "broken.ts", "odd.mjs"]);
    expect(byFile.get("bad-cron.mjs")).toContain('triggers.0.expr: minute field "61"');
    expect(byFile.get("odd.mjs")).toContain("triggerz");
    expect(byFile.get("broken.ts")).toMatch(/broken\.ts:2:/);

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/#/workflows`);
      await page.locator("#skipped-files").waitFor();
      expect(await page.locator("#skipped-files strong").textContent()).toBe(
        "3 workflow files were not deployed",
      );
      const cron = page.locator('#skipped-files li[data-file="bad-cron.mjs"]');
      expect(await cron.textContent()).toContain('minute field "61"');
      expect(await page.locator("#workflows tbody tr").count()).toBe(1);
    } finally {
      await browser.close();
    }
  });

  it("replace the empty-page message when no file deployed", async () => {
    const base = await boot({ "bad-cron.mjs": BAD_CRON });
    const listing = (await json(`${base}/api/workflows`)) as Listing;
    expect(listing).toMatchObject({ workflows: [], skipped: [{ file: "bad-cron.mjs" }] });

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/#/workflows`);
      await page.locator("#skipped-files").waitFor();
      expect(await page.locator("#skipped-files strong").textContent()).toBe(
        "1 workflow file was not deployed",
      );
      expect(await page.locator("main").textContent()).not.toContain("No workflows deployed yet");
    } finally {
      await browser.close();
    }
  });
});

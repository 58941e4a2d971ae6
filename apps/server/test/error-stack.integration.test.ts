/**
 * A program that throws, served by the binary from its workflows directory (TypeScript, bundled
 * at boot): the API's run JSON carries the error's class name and a stack whose frames name the
 * `.ts` file and its own line, and the run page in real Chromium shows the stack collapsed under
 * the red error box. Before, the run showed only `PROGRAM_ERROR: <message>`.
 */
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { start, stopServers, terminalRun, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const THROWS = [
  /* 1 */ 'import { input } from "@promenade/workflow";',
  /* 2 */ "",
  /* 3 */ "interface Order {",
  /* 4 */ "  total: number;",
  /* 5 */ "}",
  /* 6 */ "",
  /* 7 */ 'export const meta = { slug: "checkout", triggers: [{ kind: "manual" }] };',
  /* 8 */ "",
  /* 9 */ "const order = input as Order;",
  /* 10 */ 'if (order.total < 0) throw new RangeError("negative total");',
  "",
].join("\n");

interface FailedRun {
  status: string;
  error: { code: string; message: string; name?: string; stack?: string };
}

describe("program error stacks through the server", () => {
  it("the run JSON and the run page show the class, message and the .ts file's line", async () => {
    const { dataDir, workflowsDir } = workspaceWith({ "checkout.ts": THROWS });
    const s = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
    });
    const base = await s.base;
    const started = await fetch(`${base}/api/workflows/checkout/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: { total: -1 } }),
    });
    const { run } = (await started.json()) as { run: { id: string } };
    const failed = await terminalRun<FailedRun>(base, run.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({
      code: "PROGRAM_ERROR",
      name: "RangeError",
      message: "negative total",
    });
    expect(failed.error.stack).toMatch(/^RangeError: negative total\n {4}at .*checkout\.ts:10:\d+/);

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/#/runs/${run.id}`);
      const box = page.locator("#run-error-box");
      await box.waitFor();
      expect(await box.locator("div").first().textContent()).toBe(
        "PROGRAM_ERROR: RangeError: negative total",
      );
      const details = page.locator("#run-error-stack");
      // Collapsed until opened.
      expect(await details.getAttribute("open")).toBeNull();
      expect(await details.locator("pre").isVisible()).toBe(false);
      await details.locator("summary").click();
      expect(await details.locator("pre").isVisible()).toBe(true);
      expect(await details.locator("pre").textContent()).toMatch(/checkout\.ts:10:\d+/);
    } finally {
      await browser.close();
    }
  });
});

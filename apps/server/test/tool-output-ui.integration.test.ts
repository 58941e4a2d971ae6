/**
 * A running tool's output growing live on the run page, in real Chromium over a real run of the
 * real engine: an agent (driven by a fake OpenAI-compatible provider at HTTP level) calls the
 * `bash` built-in with a command that prints a first burst (stdout and stderr), then waits for a
 * file the test creates. The page shows the first burst under the running tool before the command
 * has finished, then the second burst, and keeps the output once the tool has its result.
 * Screenshots land in test-artifacts/tool-output/ (gitignored). If this breaks, a person watching
 * a long command sees nothing until it ends.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "@promenade/engine";
import { createPromenadeServer } from "@promenade/server";
import type { PromenadeServer } from "@promenade/server";
import {
  openAiText,
  openAiToolCalls,
  startFakeOpenAiProvider,
  type FakeProvider,
} from "@promenade/agent/testing";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { engineApi } from "../src/adapter.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/tool-output/", import.meta.url));

let dataDir: string;
let provider: FakeProvider;
let engine: Engine;
let server: PromenadeServer;
let base: string;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), "promenade-tool-output-ui-"));
  provider = await startFakeOpenAiProvider();
  engine = new Engine({
    dataDir,
    cancelGraceMs: 250,
    log: () => {},
    inference: {
      default_provider: "local",
      default_model: "gpt-4o-mini",
      providers: { local: { base_url: provider.baseUrl } },
    },
  });
  engine.deployWorkflow({
    program: [
      'import { agent, output } from "@promenade/workflow";',
      'export const meta = { slug: "builder", triggers: [{ kind: "manual" }] };',
      'output(await agent("build it"));',
    ].join("\n"),
  });
  server = createPromenadeServer(engineApi(engine), { log: () => {} });
  const { port } = await server.listen(0, "127.0.0.1");
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
});

afterAll(async () => {
  await browser?.close();
  await server?.close({ graceMs: 200 });
  await engine?.closeGracefully({ childGraceMs: 500 });
  await provider?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("live tool output on the run page", () => {
  it("shows a running bash command's output as it is printed, then keeps it with the result", async () => {
    provider.enqueue(
      openAiToolCalls([
        {
          id: "b1",
          name: "bash",
          arguments: {
            command:
              "echo compiling step 1; ls /no-such-dir-for-promenade; while [ ! -e go ]; do sleep 0.02; done; echo compiling step 2",
          },
        },
      ]),
      openAiText("built"),
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    const { id } = engine.startRun("builder");
    await page.goto(`${base}/#/runs/${id}`);
    await page.click("#tab-log");
    const tool = "#log .tool[data-tool-call-id='b1']";
    const output = `${tool} pre.tool-output`;

    // The first burst is on the page while the command still waits for the file.
    await page.waitForSelector(`${output} >> text=compiling step 1`, { timeout: 30_000 });
    await page.waitForSelector(`${output} .stderr >> text=no-such-dir-for-promenade`);
    expect(await page.textContent(`${tool} .state`)).toBe("running");
    expect(await page.textContent(output)).not.toContain("compiling step 2");
    expect(engine.store.getRun(id)?.status).toBe("running");
    await page.screenshot({ path: `${ARTIFACTS}/01-running.png`, fullPage: true });

    writeFileSync(join(dataDir, "runs", id, "workspace", "go"), "");
    await page.waitForSelector(`${output} >> text=compiling step 2`);
    await page.waitForSelector(`${tool} .state.ok`);
    expect(await page.textContent(output)).toContain("compiling step 1");
    expect((await engine.waitForRun(id)).output).toBe("built");
    await page.screenshot({ path: `${ARTIFACTS}/02-finished.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});

/* eslint-disable @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- the test reads untyped JSON API bodies */
/**
 * The `promenade-server` binary as a process: boot lines, refusal to bind off loopback without a
 * token, and crash recovery — SIGKILL mid-run, start again on the same data dir, the run completes
 * and the UI shows it; SIGTERM exits 0; a signal repeated at once is one stop, one sent later
 * exits 1. If this breaks, operators lose runs across restarts, Ctrl-C skips the graceful
 * shutdown, or the harness cannot find the address.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromiumLaunchOptions } from "../../../packages/server/test/chromium.ts";
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, waitFor } from "./helpers.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

afterEach(stopServers);

function workspace(): { dataDir: string; workflowsDir: string } {
  const root = mkdtempSync(join(tmpdir(), "promenade-bin-"));
  const workflowsDir = join(root, "workflows");
  mkdirSync(workflowsDir);
  writeFileSync(
    join(workflowsDir, "slow.mjs"),
    [
      'import { output, phase, sleep } from "@promenade/workflow";',
      'export const meta = { slug: "slow", triggers: [{ kind: "manual" }] };',
      'phase("working");',
      'console.log("started a slow step");',
      "await sleep(1500);",
      "output({ done: true });",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(workflowsDir, "typed.ts"),
    'import { output } from "@promenade/workflow";\nexport const meta = { slug: "typed", triggers: [{ kind: "manual" }] };\nconst n: number = 2;\noutput({ n });\n',
  );
  writeFileSync(join(workflowsDir, "broken.ts"), "export const meta = { slug: ;\n");
  writeFileSync(join(workflowsDir, "notes.txt"), "ignored\n");
  return { dataDir: join(root, "data"), workflowsDir };
}

describe("promenade-server binary", () => {
  it("refuses a non-loopback bind without a token, before binding", async () => {
    const s = start({ PROMENADE_HOST: "0.0.0.0", PROMENADE_PORT: "0" });
    const bad = start({ PROMENADE_PORT: "abc" });
    const usage = start({}, ["--nope"]);
    const version = start({}, ["--version"]);
    expect(await s.exit).toBe(1);
    expect(s.output()).toContain("PROMENADE_API_TOKEN");
    expect(s.output()).toContain("  hint: ");
    expect(await bad.exit).toBe(1);
    expect(bad.output()).toContain(
      'PROMENADE_PORT must be an integer between 0 and 65535, got "abc".',
    );
    expect(await usage.exit).toBe(2);
    expect(await version.exit).toBe(0);
    expect(version.output()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("recovers a run after SIGKILL: the restarted server completes it and the UI shows it", async () => {
    const { dataDir, workflowsDir } = workspace();
    const env = {
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
    };
    const first = start(env);
    const base1 = await first.base;
    const out = first.output();
    expect(out).toMatch(/deployed "slow" from .*slow\.mjs/);
    expect(out).toMatch(/deployed "typed" from .*typed\.ts/);
    expect(out).toMatch(/skipped .*broken\.ts: /);
    expect(out).not.toContain("notes.txt");
    expect(out.indexOf("recovery sweep:")).toBeLessThan(out.indexOf("listening on"));
    await waitFor(
      () => Promise.resolve(first.output().includes("workflows deployed: 2") ? true : undefined),
      5000,
    );

    const started = await json(`${base1}/api/workflows/slow/runs`, { method: "POST" });
    const id: string = started.run.id;
    await waitFor(async () =>
      (await json(`${base1}/api/runs/${id}`)).run.status === "running" ? true : undefined,
    );
    first.child.kill("SIGKILL");
    await first.exit;

    const second = start(env);
    const base2 = await second.base;
    expect(second.output()).toContain("recovery sweep: restarted 1 run(s), cancelled 0");
    const done = await waitFor(async () => {
      const run = (await json(`${base2}/api/runs/${id}`)).run;
      return ["completed", "failed", "cancelled"].includes(run.status) ? run : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.output).toEqual({ done: true });

    const browser = await chromium.launch(chromiumLaunchOptions());
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${base2}/#/runs/${id}`);
      await page.waitForSelector("#run-status .badge[data-status='completed']");
      // The timeline shows the second pass, started by the restarted server's recovery.
      await page.waitForSelector(
        "#tl-rows .tl-row[data-kind='pass'] .tl-reason >> text=engine restart",
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/recovered-run-timeline.png`, fullPage: true });
      await page.click("#tab-log");
      await page.waitForSelector(".line >> text=started a slow step");
      await page.screenshot({ path: `${ARTIFACTS}/recovered-run.png`, fullPage: true });
    } finally {
      await browser.close();
    }

    second.child.kill("SIGTERM");
    expect(await second.exit).toBe(0);
    expect(second.output()).toContain("SIGTERM received — shutting down");
  });

  it("treats a signal repeated at once as one stop (Ctrl-C via pnpm); a later one exits 1", async () => {
    const { dataDir, workflowsDir } = workspace();
    writeFileSync(
      join(workflowsDir, "stubborn.mjs"),
      [
        'import { phase, sleep } from "@promenade/workflow";',
        'export const meta = { slug: "stubborn", triggers: [{ kind: "manual" }] };',
        'process.on("SIGTERM", () => console.log("ignoring SIGTERM"));',
        'phase("armed");',
        "await sleep(60_000);",
        "",
      ].join("\n"),
    );
    const env = {
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
    };

    // The terminal and `pnpm start` both deliver the same Ctrl-C: a clean shutdown, exit 0.
    const once = start(env);
    await once.base;
    once.child.kill("SIGINT");
    once.child.kill("SIGINT");
    expect(await once.exit).toBe(0);
    expect(once.output()).toContain("SIGINT received — shutting down");
    expect(once.output()).not.toContain("received again");

    // A run process that ignores SIGTERM keeps the shutdown busy; a signal sent later exits now.
    const twice = start(env);
    const base = await twice.base;
    const runId: string = (await json(`${base}/api/workflows/stubborn/runs`, { method: "POST" }))
      .run.id;
    await waitFor(async () => {
      const { events } = await json(`${base}/api/runs/${runId}/events?channels=phase`);
      return events.length > 0 ? true : undefined;
    });
    twice.child.kill("SIGTERM");
    await waitFor(() =>
      Promise.resolve(twice.output().includes("SIGTERM received") ? true : undefined),
    );
    await new Promise((r) => setTimeout(r, 1500));
    twice.child.kill("SIGTERM");
    expect(await twice.exit).toBe(1);
    expect(twice.output()).toContain("SIGTERM received again — exiting now");
  });

  it("never prints or returns the API token, webhook tokens or .env values (canary)", async () => {
    const { dataDir, workflowsDir } = workspace();
    const apiToken = "canary-api-token-5f0c1d2e3a4b5c6d7e8f90";
    const hookToken = "canary-hook-token-a1b2c3d4";
    const envSecret = "canary-env-secret-z9y8x7";
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, ".env"), `MY_SECRET=${envSecret}\n`);
    writeFileSync(
      join(workflowsDir, "hooked.mjs"),
      'export const meta = { slug: "hooked", triggers: [{ kind: "webhook", auth: "token" }] };\n',
    );
    const s = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_API_TOKEN: apiToken,
      PROMENADE_WEBHOOK_TOKEN__HOOKED: hookToken,
    });
    const base = await s.base;
    expect(s.output()).toContain("api auth: enabled");
    const bodies: string[] = [];
    const call = async (path: string, init: RequestInit = {}): Promise<number> => {
      const res = await fetch(`${base}${path}`, init);
      bodies.push(JSON.stringify([...res.headers]), await res.text());
      return res.status;
    };
    const auth = { authorization: `Bearer ${apiToken}` };
    expect(await call("/api/workflows", { headers: auth })).toBe(200);
    expect(await call("/api/workflows")).toBe(401);
    expect(
      await call("/api/workflows", { headers: { authorization: `Bearer ${apiToken}x` } }),
    ).toBe(401);
    expect(await call("/metrics", { headers: auth })).toBe(200);
    expect(await call("/api/workflows/hooked", { headers: auth })).toBe(200);
    expect(
      await call("/hooks/hooked/0", {
        method: "POST",
        body: "{}",
        headers: { authorization: `Bearer ${hookToken}` },
      }),
    ).toBe(202);
    expect(
      await call("/hooks/hooked/0", {
        method: "POST",
        body: "{}",
        headers: { authorization: `Bearer ${hookToken}0` },
      }),
    ).toBe(401);
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    const everything = [...bodies, s.output()].join("\n");
    for (const secret of [apiToken, hookToken, envSecret]) expect(everything).not.toContain(secret);
  });
});

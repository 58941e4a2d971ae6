/**
 * Hot reload of the workflows directory (`PROMENADE_WATCH=1`, what `promenade dev` sets), on a
 * real server process and real files: a saved file is redeployed (an identical save adds no
 * version), a file that stops compiling keeps its last good version running and is listed with
 * its error until fixed, a new file deploys, a package directory's skills count as its workflow,
 * and a deleted file undeploys its workflow while its runs stay readable. Ctrl-C still exits 0.
 * Every wait polls the API for the state the step produces; none sleeps.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { json, start, stopServers, terminalRun, waitFor, workspaceWith } from "./helpers.ts";

afterEach(stopServers);

const hello = (tag: string): string =>
  [
    'import { output } from "@promenade/workflow";',
    'export const meta = { slug: "hello", triggers: [{ kind: "manual" }] };',
    `const tag: string = "${tag}";`,
    "output(tag);",
    "",
  ].join("\n");

const OTHER = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "other", triggers: [{ kind: "manual" }] };',
  "output(1);",
  "",
].join("\n");

const PACKAGE_ENTRY = [
  'import { output } from "@promenade/workflow";',
  'export const meta = { slug: "pkg", triggers: [{ kind: "manual" }] };',
  'output("pkg");',
  "",
].join("\n");

interface Listing {
  workflows: { slug: string }[];
  skipped: { file: string; error: string }[];
}

async function versions(base: string, slug: string): Promise<number[]> {
  const body = (await json(`${base}/api/workflows/${slug}/versions`)) as {
    versions?: { number: number }[];
  };
  return (body.versions ?? []).map((v) => v.number);
}

async function runOutput(base: string, slug: string): Promise<{ id: string; output: unknown }> {
  const started = (await json(`${base}/api/workflows/${slug}/runs`, { method: "POST" })) as {
    run: { id: string };
  };
  const run = await terminalRun<{ status: string; output: unknown }>(base, started.run.id);
  expect(run.status).toBe("completed");
  return { id: started.run.id, output: run.output };
}

async function listing(base: string): Promise<Listing> {
  return (await json(`${base}/api/workflows`)) as Listing;
}

describe("hot reload of the workflows dir", () => {
  it("redeploys saved files, keeps the last good version of a broken one, and undeploys deleted ones", async () => {
    const { dataDir, workflowsDir } = workspaceWith({ "hello.ts": hello("v1") });
    const pkg = join(workflowsDir, "pkg");
    mkdirSync(join(pkg, "skills"), { recursive: true });
    writeFileSync(join(pkg, "index.ts"), PACKAGE_ENTRY);
    writeFileSync(join(pkg, "skills", "tone.md"), "Be brief.");
    const server = start({
      PROMENADE_DATA_DIR: dataDir,
      PROMENADE_WORKFLOWS_DIR: workflowsDir,
      PROMENADE_PORT: "0",
      PROMENADE_WATCH: "1",
    });
    const base = await server.base;
    await waitFor(() => Promise.resolve(server.output().includes("watching ") ? true : undefined));
    const first = await runOutput(base, "hello");
    expect(first.output).toBe("v1");

    // A saved edit is a new version, live for the next run.
    writeFileSync(join(workflowsDir, "hello.ts"), hello("v2"));
    await waitFor(async () => ((await versions(base, "hello")).length === 2 ? true : undefined));
    expect((await runOutput(base, "hello")).output).toBe("v2");

    // An identical save adds no version: the scan that deployed the new file ran after it.
    writeFileSync(join(workflowsDir, "hello.ts"), hello("v2"));
    writeFileSync(join(workflowsDir, "other.ts"), OTHER);
    await waitFor(async () =>
      (await listing(base)).workflows.some((w) => w.slug === "other") ? true : undefined,
    );
    expect(await versions(base, "hello")).toEqual([2, 1]);

    // A broken save: the last good version keeps running, the error is listed and printed.
    writeFileSync(join(workflowsDir, "hello.ts"), `${hello("v3")}const = ;\n`);
    const broken = await waitFor(async () => {
      const body = await listing(base);
      return body.skipped.find((s: { file: string }) => s.file === "hello.ts");
    });
    expect(broken.error).toMatch(/hello\.ts:5:/);
    expect(server.output()).toContain("skipped ");
    expect((await listing(base)).workflows.map((w) => w.slug)).toContain("hello");
    expect((await runOutput(base, "hello")).output).toBe("v2");

    // Fixed: the error is cleared and the fix is deployed.
    writeFileSync(join(workflowsDir, "hello.ts"), hello("v3"));
    // The error list is replaced once the whole scan is done: wait for both.
    await waitFor(async () =>
      (await listing(base)).skipped.length === 0 && (await versions(base, "hello")).length === 3
        ? true
        : undefined,
    );
    expect((await runOutput(base, "hello")).output).toBe("v3");

    // A package directory's skill is part of its workflow.
    expect(await versions(base, "pkg")).toEqual([1]);
    writeFileSync(join(pkg, "skills", "tone.md"), "Be very brief.");
    await waitFor(async () => ((await versions(base, "pkg")).length === 2 ? true : undefined));

    // Deleted: undeployed, new runs refused, its runs still readable.
    rmSync(join(workflowsDir, "hello.ts"));
    await waitFor(async () =>
      (await listing(base)).workflows.every((w) => w.slug !== "hello") ? true : undefined,
    );
    const refused = await fetch(`${base}/api/workflows/hello/runs`, { method: "POST" });
    expect(refused.status).toBe(404);
    const kept = await fetch(`${base}/api/runs/${first.id}`);
    expect(kept.status).toBe(200);
    expect(((await kept.json()) as { run: unknown }).run).toMatchObject({
      status: "completed",
      output: "v1",
      workflowSlug: "hello",
    });
    expect(server.output()).toContain('undeployed "hello"');

    // Recreated: the same workflow comes back, its versions continue.
    writeFileSync(join(workflowsDir, "hello.ts"), hello("v4"));
    await waitFor(async () => ((await versions(base, "hello")).length === 4 ? true : undefined));
    expect((await runOutput(base, "hello")).output).toBe("v4");

    server.child.kill("SIGINT");
    expect(await server.exit).toBe(0);
  });
});

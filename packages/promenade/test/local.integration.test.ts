/**
 * The commands that need no running server, as real processes: `init` then `run <file.ts>`
 * (embedded engine, TypeScript compiled, output on stdout), exit codes 1 and 130 for a failed
 * and a Ctrl-C'd run, `dev` redeploying an edited file (then `undeploy`), and `dev` / `server`
 * serving until Ctrl-C, then exiting 0. If this breaks,
 * the two-command quickstart fails or a clean Ctrl-C looks like a crash.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FAILS, STEPS } from "./fixtures.ts";
import { cli, killChildren, listening, spawnCli, waitFor, writeFiles } from "./helpers.ts";

afterEach(killChildren);

describe("promenade init and run <file>", () => {
  it("creates a project whose example workflow runs embedded and prints its output", async () => {
    const root = writeFiles({});
    const init = await cli(["init", "flows"], { cwd: root });
    expect(init.code).toBe(0);
    const project = join(root, "flows");
    const run = await cli(["run", "workflows/hello.ts", "--input", '{"name":"Ada"}'], {
      cwd: project,
    });
    expect(run.stderr).toMatch(/phase {3}greet/);
    expect(run.stderr).toMatch(/stdout {2}hello, Ada/);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ greeting: "hello, Ada" });
    // The engine's data lived in a temp dir: nothing is left in the project.
    expect(readdirSync(project).sort()).toEqual([
      ".gitignore",
      "package.json",
      "tsconfig.json",
      "workflows",
    ]);
  });

  it("exits 1 for a failed program, 130 when Ctrl-C cancels the run", async () => {
    const dir = writeFiles({ "fails.ts": FAILS, "steps.ts": STEPS });
    const failed = await cli(["run", "fails.ts"], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/failed .*PROGRAM_ERROR: .*boom/);
    // The stack under it points at the TypeScript file's own line.
    expect(failed.stderr).toMatch(/\n {2}at .*fails\.ts:6:\d+/);

    const slow = spawnCli(["run", "steps.ts", "--input", '{"steps":300,"delayMs":100}'], {
      cwd: dir,
    });
    await waitFor(() => (slow.stderr().includes("line 2") ? true : undefined));
    slow.child.kill("SIGINT");
    expect(await slow.exit).toBe(130);
    expect(slow.stderr()).toContain("cancelling the run");
    expect(slow.stderr()).toMatch(/run [0-9A-Z]{26} cancelled/);
  });

  it("keeps the engine's data with --data-dir", async () => {
    const dir = writeFiles({ "steps.ts": STEPS });
    const run = await cli(["run", "steps.ts", "--data-dir", "data"], { cwd: dir });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, "data", "promenade.db"))).toBe(true);
  });
});

describe("promenade dev and server", () => {
  it("dev serves a project's workflows, redeploys an edited file, and exits 0 on Ctrl-C", async () => {
    const root = writeFiles({});
    expect((await cli(["init", "flows"], { cwd: root })).code).toBe(0);
    const dev = spawnCli(["dev", "flows", "--port", "0"], { cwd: root });
    const url = await listening(dev);
    expect(dev.stderr()).toMatch(/deployed "hello" from .*hello\.ts/);
    // The banner follows the server's own "listening on" line in a later write.
    await waitFor(() => (dev.stderr().includes(`Promenade dev  ${url}`) ? true : undefined));
    const workflows = await cli(["workflows", "--json", "--url", url]);
    expect((JSON.parse(workflows.stdout) as { workflows: { slug: string }[] }).workflows).toEqual([
      expect.objectContaining({ slug: "hello" }),
    ]);
    expect(existsSync(join(root, "flows", ".promenade", "promenade.db"))).toBe(true);

    // Edit the file: dev redeploys it (a second version), and the next run is the new program.
    const file = join(root, "flows", "workflows", "hello.ts");
    writeFileSync(file, readFileSync(file, "utf8").replace("greeting: `hello,", "greeting: `hi,"));
    await waitFor(async () => {
      const res = await fetch(`${url}/api/workflows/hello/versions`);
      const body = (await res.json()) as { versions: unknown[] };
      return body.versions.length === 2 ? true : undefined;
    });
    const run = await cli(["run", "hello", "--input", '{"name":"Ada"}', "--url", url]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ greeting: "hi, Ada" });

    // Undeploy: the workflow leaves the list, a second undeploy and a run of it exit 1.
    const undeploy = await cli(["undeploy", "hello", "--json", "--url", url]);
    expect(undeploy.code).toBe(0);
    expect(JSON.parse(undeploy.stdout)).toMatchObject({ undeployed: { slug: "hello" } });
    const again = await cli(["undeploy", "hello", "--url", url]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("NOT_FOUND");
    expect((await cli(["run", "hello", "--url", url])).code).toBe(1);
    const runs = await cli(["runs", "--json", "--url", url]);
    expect((JSON.parse(runs.stdout) as { runs: { status: string }[] }).runs).toEqual([
      expect.objectContaining({ status: "completed" }),
    ]);

    dev.child.kill("SIGINT");
    expect(await dev.exit).toBe(0);
    expect(dev.stderr()).toContain("SIGINT received — shutting down");
  });

  it("server keeps its data in ./.promenade by default and exits 0 on Ctrl-C", async () => {
    const dir = writeFiles({ "workflows/steps.ts": STEPS });
    const server = spawnCli(["server", "--port", "0"], { cwd: dir });
    const url = await listening(server);
    expect(server.stderr()).toContain(`data dir: ${join(dir, ".promenade")}`);
    expect(server.stderr()).toMatch(/deployed "steps" from .*steps\.ts/);
    const run = await cli(["run", "steps", "--url", url]);
    expect(run.code).toBe(0);
    server.child.kill("SIGINT");
    expect(await server.exit).toBe(0);
    expect(server.stderr().trimEnd().endsWith("SIGINT received — shutting down")).toBe(true);
  });
});

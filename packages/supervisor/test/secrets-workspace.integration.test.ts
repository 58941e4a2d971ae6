// Secrets (allow-list, env then processEnv, env interpolation,
// redaction everywhere), workspace hydrate/persist, memory dirs, artifacts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createHarness } from "./harness.ts";
import type { Harness } from "./harness.ts";

const agentEntry = fileURLToPath(new URL("./fixtures/child-entry-agent.ts", import.meta.url));

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe("secrets and the run environment", () => {
  it("returns a declared secret from env, falling back to processEnv", async () => {
    h = createHarness({
      env: new Map([["GH_TOKEN", "tok-123"]]),
      processEnv: { OTHER: "from-process" },
    });
    h.deploy(
      { slug: "reader", permissions: { secrets: [{ name: "GH_TOKEN" }, { name: "OTHER" }] } },
      'output([(await secrets.get("GH_TOKEN")).length, (await secrets.get("OTHER")) === "from-process"]);',
    );
    const row = await h.run("reader");
    expect(row.output).toEqual([7, true]);
  });

  it("fails SECRET_UNDECLARED and SECRET_MISSING (hint names envLabel)", async () => {
    h = createHarness({ envLabel: "/srv/promenade/.env" });
    h.deploy({ slug: "undeclared" }, 'await secrets.get("NOPE");');
    h.deploy(
      { slug: "missing", permissions: { secrets: [{ name: "EMPTY" }] } },
      'await secrets.get("EMPTY");',
    );
    const undeclared = await h.run("undeclared");
    expect(undeclared.error?.code).toBe("SECRET_UNDECLARED");
    expect(undeclared.error?.message).toContain("NOPE");
    const missing = await h.run("missing");
    expect(missing.error?.code).toBe("SECRET_MISSING");
    expect(missing.error?.hint).toContain("/srv/promenade/.env");
  });

  it("redacts secret values from the error, stdout and agent frames; they appear in no event", async () => {
    const secret = "s3cr3t-value-42";
    h = createHarness({ childEntryPath: agentEntry, env: new Map([["API_KEY", secret]]) });
    h.deploy(
      { slug: "leaky", permissions: { secrets: [{ name: "API_KEY" }] } },
      [
        'const v = await secrets.get("API_KEY");',
        "console.log(`printing ${v}`);",
        "process.stdout.write(v.slice(0, 6)); await sleep(30); process.stdout.write(v.slice(6) + '\\n');",
        "await agent(JSON.stringify({ text: `model sees ${v}` }));",
        "await agent(JSON.stringify({ memory: `../${v}` }));",
        "throw new Error(`bad key ${v}`);",
      ].join("\n"),
    );
    const row = await h.run("leaky");
    expect(row.status).toBe("failed");
    expect(row.error?.message).toBe("bad key [redacted:API_KEY]");
    const all = JSON.stringify(h.events(row.id));
    expect(all).not.toContain(secret);
    const stdout = h.printed(row.id, "stdout");
    // The second value was written in two chunks 30 ms apart: still replaced whole.
    expect(stdout).toBe("printing [redacted:API_KEY]\n[redacted:API_KEY]\n");
    expect(JSON.stringify(h.store.peek.run(row.id))).not.toContain(secret);
    expect(h.logs.join("\n")).not.toContain(secret);
    expect(h.logs.join("\n")).toContain("../[redacted:API_KEY]");
  });

  it("redacts secret values in output() once: the row and the output event agree, keys included", async () => {
    const secret = "canary-7f3a9c-secret";
    h = createHarness({
      env: new Map([
        ["API_KEY", secret],
        ["ENV_KEY", "env-canary-4411"],
      ]),
    });
    h.deploy(
      {
        slug: "outputs",
        permissions: { secrets: [{ name: "API_KEY" }, { name: "ENV_KEY" }] },
        env: { FROM_ENV: "${{ secrets.ENV_KEY }}" },
      },
      [
        'const v = await secrets.get("API_KEY");',
        "output({ token: v, nested: [{ text: `Bearer ${v}` }], [v]: process.env.FROM_ENV });",
      ].join("\n"),
    );
    const row = await h.run("outputs");
    expect(row.status).toBe("completed");
    const redacted = {
      token: "[redacted:API_KEY]",
      nested: [{ text: "Bearer [redacted:API_KEY]" }],
      "[redacted:API_KEY]": "[redacted:ENV_KEY]",
    };
    expect(row.output).toEqual(redacted);
    const event = h.events(row.id).find((e) => e.event.kind === "output");
    expect(event?.event).toMatchObject({ kind: "output", value: redacted });
    const stored = JSON.stringify([h.store.peek.run(row.id), h.events(row.id)]);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain("env-canary-4411");
  });

  it("fails with the output redacted the same way in the row and the event", async () => {
    const secret = "canary-failing-5521";
    h = createHarness({ env: new Map([["API_KEY", secret]]) });
    h.deploy(
      { slug: "fails", permissions: { secrets: [{ name: "API_KEY" }] } },
      'output({ partial: await secrets.get("API_KEY") }); throw new Error("stop");',
    );
    const row = await h.run("fails");
    expect(row.status).toBe("failed");
    expect(row.output).toEqual({ partial: "[redacted:API_KEY]" });
    const event = h.events(row.id).find((e) => e.event.kind === "output");
    expect((event?.event as { value?: unknown } | undefined)?.value).toEqual(row.output);
  });

  it("hands a workflows.call parent the child's redacted output, and stores child input and artifact metadata redacted", async () => {
    const secret = "canary-child-9034";
    h = createHarness({ env: new Map([["API_KEY", secret]]) });
    h.deploy(
      { slug: "child", permissions: { secrets: [{ name: "API_KEY" }] } },
      'output({ got: input, own: await secrets.get("API_KEY") });',
    );
    h.deploy(
      { slug: "parent", permissions: { secrets: [{ name: "API_KEY" }] } },
      [
        'const v = await secrets.get("API_KEY");',
        'await artifacts.write("note.txt", "text/plain", "x", { token: v });',
        'output(await workflows.call("child", { pass: v }));',
      ].join("\n"),
    );
    const row = await h.run("parent");
    expect(row.status).toBe("completed");
    // The child ran with its input stored redacted, and its row's output is redacted: the parent
    // receives exactly that row value.
    expect(row.output).toEqual({
      got: { pass: "[redacted:API_KEY]" },
      own: "[redacted:API_KEY]",
    });
    const child = h.store.peek.runs().find((run) => run.parentRunId === row.id);
    expect(child?.input).toEqual({ pass: "[redacted:API_KEY]" });
    expect(h.store.peek.artifacts(row.id)[0]?.metadata).toEqual({ token: "[redacted:API_KEY]" });
    const stored = JSON.stringify([
      h.store.peek.runs(),
      h.events(row.id),
      h.events(child?.id ?? ""),
      h.store.peek.artifacts(row.id),
    ]);
    expect(stored).not.toContain(secret);
  });

  it("interpolates ${{ secrets.NAME }} env values and copies plain ones", async () => {
    h = createHarness({ env: new Map([["API_KEY", "the-api-key"]]) });
    h.deploy(
      {
        slug: "envy",
        permissions: { secrets: [{ name: "API_KEY" }] },
        env: { MY_KEY: "${{ secrets.API_KEY }}", PLAIN: "plain-value" },
      },
      "output([process.env.MY_KEY === 'the-api-key', process.env.PLAIN]);",
    );
    const row = await h.run("envy");
    expect(row.output).toEqual([true, "plain-value"]);
  });

  it("fails SECRET_MISSING without restarting when an interpolated secret is unset", async () => {
    let launches = 0;
    h = createHarness({
      launch: () => {
        launches += 1;
        throw new Error("must not spawn");
      },
    });
    h.deploy(
      {
        slug: "unset",
        permissions: { secrets: [{ name: "API_KEY" }] },
        env: { MY_KEY: "${{ secrets.API_KEY }}" },
      },
      "output(1);",
    );
    const row = await h.run("unset");
    expect(row.error?.code).toBe("SECRET_MISSING");
    expect(row.restarts).toBe(0);
    expect(launches).toBe(0);
  });
});

describe("workspace persistence, memory dirs and artifacts", () => {
  const stateProgram = [
    'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
    'const previous = existsSync("state/value.txt") ? readFileSync("state/value.txt", "utf8") : null;',
    'mkdirSync("state", { recursive: true });',
    'writeFileSync("state/value.txt", input.value);',
    "if (input.fail) throw new Error('failing on purpose');",
    "output(previous);",
  ].join("\n");

  it("hydrates declared dirs at first start and persists them only on success", async () => {
    h = createHarness();
    h.deploy({ slug: "stateful", workspace: { persist: ["state"] } }, stateProgram);
    expect((await h.run("stateful", { value: "alpha" })).output).toBeNull();
    expect((await h.run("stateful", { value: "beta" })).output).toBe("alpha");
    const failed = await h.run("stateful", { value: "broken", fail: true });
    expect(failed.status).toBe("failed");
    expect((await h.run("stateful", { value: "gamma" })).output).toBe("beta");
  });

  it("persists the whole workspace with persist: true", async () => {
    h = createHarness();
    h.deploy(
      { slug: "whole", workspace: { persist: true } },
      'import { existsSync, readFileSync, writeFileSync } from "node:fs"; const p = existsSync("root.txt") ? readFileSync("root.txt", "utf8") : null; writeFileSync("root.txt", String(input)); output(p);',
    );
    expect((await h.run("whole", "one")).output).toBeNull();
    expect((await h.run("whole", "two")).output).toBe("one");
  });

  it("shows a restarted pass the crashed pass's writes, not a re-hydrated copy", async () => {
    h = createHarness();
    h.deploy(
      { slug: "crashy", workspace: { persist: ["state"] } },
      [
        'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
        'mkdirSync("state", { recursive: true });',
        "if (input === 'seed') { writeFileSync('state/v.txt', 'A'); output('seeded'); }",
        "else if (!existsSync('crashed')) { writeFileSync('crashed', '1'); writeFileSync('state/v.txt', 'B'); process.exit(1); }",
        "else output(readFileSync('state/v.txt', 'utf8'));",
      ].join("\n"),
    );
    await h.run("crashy", "seed");
    const row = await h.run("crashy", "go");
    expect(row.output).toBe("B");
    expect(row.restarts).toBe(1);
  });

  it("persists memory dirs reported by the agent loop without a declaration", async () => {
    h = createHarness({ childEntryPath: agentEntry });
    h.deploy(
      { slug: "memo" },
      [
        'import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";',
        'const before = existsSync("mem/notes/learned.md") ? readFileSync("mem/notes/learned.md", "utf8") : null;',
        'mkdirSync("mem/notes", { recursive: true }); writeFileSync("mem/notes/learned.md", "fact");',
        'await agent(JSON.stringify({ memory: "mem/notes" }));',
        'await agent(JSON.stringify({ memory: "../escape" }));',
        "output(before);",
      ].join("\n"),
    );
    expect((await h.run("memo")).output).toBeNull();
    expect((await h.run("memo")).output).toBe("fact");
    expect(h.logs.some((l) => l.includes("../escape"))).toBe(true);
  });

  it("writes artifacts with a file:// url and refuses names that are not plain file names", async () => {
    h = createHarness();
    h.deploy(
      { slug: "reporter" },
      [
        'const ref = await artifacts.write("report.txt", "text/plain", "line one", { pages: 1 });',
        'const bytes = await artifacts.write("data.bin", "application/octet-stream", new Uint8Array([1, 2, 3]));',
        "let code = null;",
        'try { await artifacts.write("../x", "text/plain", "no"); } catch (e) { code = e.code; }',
        "output({ ref, bytes: bytes.name, code });",
      ].join("\n"),
    );
    const row = await h.run("reporter");
    const out = row.output as {
      ref: { id: string; name: string; url: string };
      bytes: string;
      code: string;
    };
    expect(out.ref.name).toBe("report.txt");
    expect(out.ref.url.startsWith("file://")).toBe(true);
    expect(out.code).toBe("VALIDATION");
    const rows = h.store.peek.artifacts(row.id);
    expect(rows.map((a) => [a.name, a.size])).toEqual([
      ["report.txt", 8],
      ["data.bin", 3],
    ]);
    expect(rows[0]?.metadata).toEqual({ pages: 1 });
    expect(readFileSync(rows[0]!.path, "utf8")).toBe("line one");
    expect(rows[0]?.id).toBe(out.ref.id);
  });
});

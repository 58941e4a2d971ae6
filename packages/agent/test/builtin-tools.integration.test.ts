/**
 * Each built-in tool against a real temp directory (and a real shell, a real local HTTP
 * server): results, limits and the working-directory confinement.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BuiltinContext } from "../src/builtins/context.ts";
import { BUILTIN_TOOL_NAMES, createBuiltinTools } from "../src/builtins/registry.ts";
import type { AgentTool } from "../src/tools.ts";
import { tempDir } from "./helpers.ts";

let workspace: { dir: string; cleanup(): void };
let outside: { dir: string; cleanup(): void };
let ctx: BuiltinContext;
let tools: Map<string, AgentTool>;

beforeEach(() => {
  workspace = tempDir();
  outside = tempDir();
  const artifacts = new Map<string, string>();
  ctx = {
    root: workspace.dir,
    fetch: globalThis.fetch,
    todos: [],
    artifacts: {
      write: (name, content) => {
        artifacts.set(name, content);
        return Promise.resolve();
      },
      read: (name) => Promise.resolve(artifacts.get(name) ?? null),
    },
  };
  tools = new Map(createBuiltinTools(BUILTIN_TOOL_NAMES, ctx).map((t) => [t.spec.name, t]));
});
afterEach(() => {
  workspace.cleanup();
  outside.cleanup();
});

const run = (name: string, input: Record<string, unknown>): Promise<string> =>
  tools.get(name)!.execute(input);
const file = (rel: string, text: string): void => {
  mkdirSync(join(workspace.dir, rel, ".."), { recursive: true });
  writeFileSync(join(workspace.dir, rel), text);
};

describe("file tools", () => {
  it("read returns the text, honours offset/limit and clips at 2000 lines with a note", async () => {
    file("a.txt", "one\ntwo\nthree\nfour");
    await expect(run("read", { path: "a.txt" })).resolves.toBe("one\ntwo\nthree\nfour");
    await expect(run("read", { path: "a.txt", offset: 2, limit: 2 })).resolves.toBe("two\nthree");
    file("big.txt", Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`).join("\n"));
    const big = await run("read", { path: "big.txt" });
    expect(big.split("\n")[1999]).toBe("line 2000");
    expect(big).toContain("500 more lines; read again with offset 2001");
    await expect(run("read", { path: "missing.txt" })).rejects.toThrow(/no such file/);
  });

  it("write creates parents and replaces; edit needs one exact match", async () => {
    await expect(
      run("write", { path: "src/lib.ts", content: "export const a = 1;\n" }),
    ).resolves.toBe("Wrote src/lib.ts (20 bytes).");
    expect(readFileSync(join(workspace.dir, "src/lib.ts"), "utf8")).toBe("export const a = 1;\n");
    await run("edit", { path: "src/lib.ts", old: "a = 1", new: "a = 2" });
    expect(readFileSync(join(workspace.dir, "src/lib.ts"), "utf8")).toBe("export const a = 2;\n");
    await expect(run("edit", { path: "src/lib.ts", old: "zzz", new: "y" })).rejects.toThrow(
      /was not found/,
    );
    file("dup.txt", "x x");
    await expect(run("edit", { path: "dup.txt", old: "x", new: "y" })).rejects.toThrow(
      /ambiguous.*2 times/,
    );
  });

  it("ls marks directories and lists several paths; glob and grep search the tree", async () => {
    file("src/a.ts", "const needle = 1;\n");
    file("src/deep/b.ts", "no match\nneedle again\nneedle\n");
    file("readme.md", "needle in docs");
    await expect(run("ls", {})).resolves.toBe("readme.md\nsrc/");
    await expect(run("ls", { path: ["src", "src/deep"] })).resolves.toBe(
      "src:\na.ts\ndeep/\n\nsrc/deep:\nb.ts",
    );
    await expect(run("glob", { pattern: "src/**/*.ts" })).resolves.toBe("src/a.ts\nsrc/deep/b.ts");
    await expect(run("glob", { pattern: "*.{md,txt}" })).resolves.toBe("readme.md");
    await expect(run("grep", { pattern: "needle" })).resolves.toBe(
      "readme.md\nsrc/a.ts\nsrc/deep/b.ts",
    );
    await expect(
      run("grep", { pattern: "^needle", path: "src", output_mode: "content" }),
    ).resolves.toBe("src/deep/b.ts:2:needle again\nsrc/deep/b.ts:3:needle");
    await expect(
      run("grep", { pattern: "needle", path: ["src"], output_mode: "count" }),
    ).resolves.toBe("src/a.ts:1\nsrc/deep/b.ts:2");
  });

  it("refuses ../, absolute paths outside and symlinks that escape, for every file tool", async () => {
    writeFileSync(join(outside.dir, "secret.txt"), "outside");
    symlinkSync(outside.dir, join(workspace.dir, "link"));
    const escapes: [string, Record<string, unknown>][] = [
      ["read", { path: "../x" }],
      ["read", { path: join(outside.dir, "secret.txt") }],
      ["read", { path: "link/secret.txt" }],
      ["write", { path: "../x", content: "x" }],
      ["write", { path: "link/new.txt", content: "x" }],
      ["edit", { path: "../x", old: "a", new: "b" }],
      ["ls", { path: "link" }],
      ["grep", { pattern: "x", path: "../" }],
      ["diagnostics", { path: "/etc/passwd" }],
      ["apply_patch", { patch: "*** Begin Patch\n*** Add File: ../evil.txt\n+x\n*** End Patch" }],
      ["bash", { command: "ls", cwd: "../" }],
    ];
    for (const [name, input] of escapes) {
      await expect(run(name, input), name).rejects.toThrow(/outside the working directory/);
    }
    expect(existsSync(join(outside.dir, "new.txt"))).toBe(false);
    expect(existsSync(join(workspace.dir, "..", "evil.txt"))).toBe(false);
    // An absolute path inside the working directory is fine.
    file("in.txt", "inside");
    await expect(run("read", { path: join(workspace.dir, "in.txt") })).resolves.toBe("inside");
  });

  it("apply_patch adds, updates, moves and deletes files, all or nothing", async () => {
    file("keep.txt", "alpha\nbeta\ngamma\n");
    file("old.txt", "one\ntwo\n");
    file("gone.txt", "bye\n");
    const patch = [
      "*** Begin Patch",
      "*** Add File: new/hello.txt",
      "+hello",
      "+world",
      "*** Update File: keep.txt",
      "@@",
      " alpha",
      "-beta",
      "+BETA",
      " gamma",
      "*** Update File: old.txt",
      "*** Move to: moved.txt",
      "@@",
      "-two",
      "+deux",
      "*** Delete File: gone.txt",
      "*** End Patch",
    ].join("\n");
    await expect(run("apply_patch", { patch })).resolves.toBe(
      "Applied the patch:\nA new/hello.txt\nM keep.txt\nR old.txt -> moved.txt\nD gone.txt",
    );
    const read = (rel: string) => readFileSync(join(workspace.dir, rel), "utf8");
    expect(read("new/hello.txt")).toBe("hello\nworld\n");
    expect(read("keep.txt")).toBe("alpha\nBETA\ngamma\n");
    expect(read("moved.txt")).toBe("one\ndeux\n");
    expect(existsSync(join(workspace.dir, "old.txt"))).toBe(false);
    expect(existsSync(join(workspace.dir, "gone.txt"))).toBe(false);

    const failing = [
      "*** Begin Patch",
      "*** Add File: second.txt",
      "+x",
      "*** Update File: keep.txt",
      "@@",
      "-not in the file",
      "+y",
      "*** End Patch",
    ].join("\n");
    await expect(run("apply_patch", { patch: failing })).rejects.toThrow(/does not match/);
    expect(existsSync(join(workspace.dir, "second.txt"))).toBe(false);
    await expect(run("apply_patch", { patch: "garbage" })).rejects.toThrow(/Invalid patch/);
  });

  it("diagnostics says there is no language server and returns at once", async () => {
    file("lib.ts", "export const x: number = 'no';\n");
    await expect(run("diagnostics", { path: "lib.ts" })).resolves.toContain(
      "No language server is available",
    );
  });
});

describe("bash", () => {
  it("runs a real shell in the working directory with no stdin and reports the exit code", async () => {
    file("sub/marker.txt", "m");
    await expect(run("bash", { command: "pwd && ls" })).resolves.toMatch(
      new RegExp(`^\\[exit code 0, \\d+ ms\\]\\n${workspace.dir}\\nsub$`),
    );
    await expect(run("bash", { command: "ls", cwd: "sub" })).resolves.toMatch(/\nmarker\.txt$/);
    await expect(run("bash", { command: "cat; echo after" })).resolves.toMatch(/\nafter$/);
    await expect(run("bash", { command: "echo oops 1>&2; exit 3" })).rejects.toThrow(/redirection/);
    await expect(run("bash", { command: "ls nope-not-here; exit 3" })).resolves.toMatch(
      /^\[exit code 3, \d+ ms\]\n\[stderr\]\n.*nope-not-here/,
    );
  });

  it("refuses redirection and command/process substitution, honouring quotes", async () => {
    for (const command of [
      "echo hi > out.txt",
      "cat < in.txt",
      "echo $(whoami)",
      "echo `whoami`",
      'echo "$(id)"',
      "diff <(ls) <(ls)",
      "ls 2>&1",
    ]) {
      await expect(run("bash", { command }), command).rejects.toThrow(/The command was refused/);
    }
    expect(existsSync(join(workspace.dir, "out.txt"))).toBe(false);
    await expect(run("bash", { command: "echo 'a > b' \"c < d\" $((1 + 2))" })).resolves.toMatch(
      /\na > b c < d 3$/,
    );
  });

  it("kills the command and its children at the timeout", async () => {
    const started = Date.now();
    await expect(
      run("bash", { command: "echo started; sleep 30", timeoutMs: 300 }),
    ).rejects.toThrow(/timed out after 300 ms[\s\S]*started/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("keeps the head and tail of a long output", async () => {
    const out = await run("bash", { command: "seq 1 100000" });
    expect(out).toContain("\n1\n2\n3\n");
    expect(out).toMatch(/bytes omitted/);
    expect(out.endsWith("99999\n100000")).toBe(true);
    expect(out.length).toBeLessThan(34 * 1024);
  });
});

describe("web, clock, todo, artifacts", () => {
  let server: Server;
  let origin: string;
  beforeEach(async () => {
    server = createServer((req, res) => {
      if (req.url === "/big") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("x".repeat(5000));
        return;
      }
      if (req.url === "/echo") {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          res.writeHead(201, { "content-type": "application/json" });
          res.end(JSON.stringify({ method: req.method, body, h: req.headers["x-test"] }));
        });
        return;
      }
      res.writeHead(404, { "content-type": "text/html" });
      res.end("<h1>missing</h1>");
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((done) => server.close(() => done())));

  it("webfetch GETs with the status header, caps the body, and refuses other schemes", async () => {
    await expect(run("webfetch", { url: `${origin}/nope` })).resolves.toBe(
      "[HTTP 404 text/html]\n<h1>missing</h1>",
    );
    const big = await run("webfetch", { url: `${origin}/big`, maxBytes: 100 });
    expect(big).toBe(`[HTTP 200 text/plain]\n${"x".repeat(100)}\n[body cut at 100 bytes]`);
    await expect(run("webfetch", { url: "file:///etc/passwd" })).rejects.toThrow(
      /Only http and https/,
    );
    await expect(run("webfetch", { url: "http://127.0.0.1:1/" })).rejects.toThrow(/failed/);
  });

  it("http sends any method with headers and a body", async () => {
    await expect(
      run("http", {
        url: `${origin}/echo`,
        method: "post",
        headers: { "x-test": "yes" },
        body: "hi",
      }),
    ).resolves.toBe('[HTTP 201 application/json]\n{"method":"POST","body":"hi","h":"yes"}');
  });

  it("clock gives UTC and a named zone; todo keeps the list; artifacts write then read", async () => {
    const now = await run("clock", { timezone: "Asia/Tokyo" });
    expect(now).toMatch(/^UTC: \d{4}-\d\d-\d\dT[\d:.]+Z\nAsia\/Tokyo: /);
    await expect(run("clock", { timezone: "Mars/Olympus" })).rejects.toThrow(/Unknown time zone/);
    await expect(
      run("todo", {
        todos: [
          { content: "plan", status: "completed" },
          { content: "build", status: "in_progress" },
        ],
      }),
    ).resolves.toBe("Tasks (1/2 completed):\n[x] plan\n[~] build");
    expect(ctx.todos).toHaveLength(2);
    await expect(run("todo", { todos: [{ content: "x", status: "done" }] })).rejects.toThrow(
      /status/,
    );
    await run("artifacts", { action: "write", name: "report.md", content: "# hi" });
    await expect(run("artifacts", { action: "read", name: "report.md" })).resolves.toBe("# hi");
    await expect(run("artifacts", { action: "read", name: "none" })).rejects.toThrow(/No artifact/);
  });
});

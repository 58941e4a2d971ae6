// The spawner process: run processes it creates talk to this process directly (IPC, stdout,
// stderr), their exits and signals go through it, and it never outlives its engine.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { RemoteChild } from "../src/internal/remote-child.ts";
import { Spawner, spawnerEntryPath } from "../src/internal/spawner.ts";
import { until } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "promenade-spawner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child that says where it runs, echoes what it is sent, and obeys `print`/`exit`/`hang`. */
const CHILD = join(dir, "child.mjs");
writeFileSync(
  CHILD,
  `process.on("message", (m) => {
  if (m.type === "exit") process.exit(m.code);
  if (m.type !== "print") return void process.send({ type: "echo", m });
  // Answered once both writes are flushed.
  process.stdout.write(m.text, () => process.stderr.write(m.err, () => process.send({ type: "printed" })));
});
process.on("SIGTERM", () => { process.stdout.write("bye\\n"); process.exit(3); });
process.send({ type: "ready", pid: process.pid, ppid: process.ppid, cwd: process.cwd(), env: process.env.SPAWNER_TEST ?? null, channelFd: process.env.NODE_CHANNEL_FD ?? null });
`,
);

let spawners: Spawner[] = [];
afterEach(() => {
  for (const spawner of spawners)
    if (spawner.pid !== undefined) process.kill(spawner.pid, "SIGKILL");
  spawners = [];
});

function newSpawner(): Spawner {
  const spawner = new Spawner(spawnerEntryPath());
  spawners.push(spawner);
  return spawner;
}

function start(spawner: Spawner, env: Record<string, string> = {}): RemoteChild {
  return spawner.spawn({ file: process.execPath, args: [CHILD], cwd: dir, env });
}

/** Messages, output and lifecycle events of one child, in order. */
function record(child: RemoteChild) {
  const seen = {
    messages: [] as Record<string, unknown>[],
    stdout: "",
    stderr: "",
    events: [] as string[],
  };
  child.on("message", (m: Record<string, unknown>) => seen.messages.push(m));
  child.stdout.on("data", (d: Buffer) => (seen.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (seen.stderr += d.toString()));
  for (const name of ["spawn", "exit", "disconnect", "close"]) {
    child.on(name, (...args: unknown[]) => seen.events.push([name, ...args.map(String)].join(" ")));
  }
  return seen;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("run processes created by the spawner", () => {
  it("talks to this process directly, and its output is complete before close", async () => {
    const spawner = newSpawner();
    const child = start(spawner, { SPAWNER_TEST: "yes" });
    const seen = record(child);
    // Sent before the process exists: delivered once it does.
    child.send({ type: "hello", text: "héllo\nworld" });
    await until(() => seen.messages.length >= 2);
    const ready = seen.messages[0] as Record<string, unknown>;
    expect(ready.pid).toBe(child.pid);
    // Its parent is the spawner, not this process; fd 3 was taken as its IPC channel.
    expect(ready.ppid).toBe(spawner.pid);
    expect(ready.ppid).not.toBe(process.pid);
    expect(ready.cwd).toBe(dir);
    expect(ready.env).toBe("yes");
    expect(ready.channelFd).toBeNull();
    expect(seen.messages[1]).toEqual({ type: "echo", m: { type: "hello", text: "héllo\nworld" } });

    const big = "x".repeat(300_000);
    child.send({ type: "print", text: big, err: "on stderr" });
    await until(() => seen.messages.length === 3);
    child.send({ type: "exit", code: 7 });
    await until(() => seen.events.includes("close 7 null"));
    expect(seen.stdout).toBe(big);
    expect(seen.stderr).toBe("on stderr");
    // `exit` and `disconnect` come in either order (as from Node); `close` comes last.
    expect(seen.events[0]).toBe("spawn");
    expect(seen.events.slice(1, 3).sort()).toEqual(["disconnect", "exit 7 null"]);
    expect(seen.events.slice(3)).toEqual(["close 7 null"]);
    expect(child.exitCode).toBe(7);
    expect(child.connected).toBe(false);
    expect(child.kill("SIGTERM")).toBe(false);
  });

  it("delivers signals through the spawner and reports how the process ended", async () => {
    const spawner = newSpawner();
    const polite = start(spawner);
    const politeSeen = record(polite);
    const stubborn = spawner.spawn({
      file: process.execPath,
      args: [
        "-e",
        'process.on("SIGTERM", () => {}); process.send("up"); setInterval(() => {}, 1000);',
      ],
      cwd: dir,
      env: {},
    });
    const stubbornSeen = record(stubborn);
    await until(() => politeSeen.messages.length === 1 && stubbornSeen.messages.length === 1);
    expect(polite.kill("SIGTERM")).toBe(true);
    await until(() => politeSeen.events.includes("close 3 null"));
    expect(politeSeen.stdout).toBe("bye\n");
    stubborn.kill("SIGTERM");
    stubborn.kill("SIGKILL");
    await until(() => stubbornSeen.events.some((e) => e.startsWith("close")));
    expect(stubborn.exitCode).toBeNull();
    expect(stubborn.signalCode).toBe("SIGKILL");
    expect(stubbornSeen.events).toContain("exit null SIGKILL");
  });

  it("reports a process that could not be created as an error without a pid", async () => {
    const spawner = newSpawner();
    const child = spawner.spawn({
      file: process.execPath,
      args: [CHILD],
      cwd: join(dir, "nowhere"),
      env: {},
    });
    const errors: string[] = [];
    child.on("error", (err: Error) => errors.push(err.message));
    await until(() => errors.length === 1);
    expect(errors[0]).toContain("ENOENT");
    expect(child.pid).toBeUndefined();
    expect(child.connected).toBe(false);
    // The spawner serves the next one as usual.
    const next = start(spawner);
    const seen = record(next);
    await until(() => seen.messages.length === 1);
    next.kill("SIGKILL");
    await until(() => seen.events.some((e) => e.startsWith("close")));
  });

  it("kills its processes when the spawner dies, and the next spawn starts a new spawner", async () => {
    const spawner = newSpawner();
    const child = start(spawner);
    const seen = record(child);
    await until(() => seen.messages.length === 1);
    const pid = child.pid as number;
    const first = spawner.pid as number;
    process.kill(first, "SIGKILL");
    await until(() => seen.events.some((e) => e.startsWith("close")));
    expect(child.signalCode).toBe("SIGKILL");
    await until(() => !alive(pid));

    const again = start(spawner);
    const againSeen = record(again);
    await until(() => againSeen.messages.length === 1);
    expect(spawner.pid).not.toBe(first);
    expect((againSeen.messages[0] as { ppid: number }).ppid).toBe(spawner.pid);
    again.kill("SIGKILL");
    await until(() => againSeen.events.some((e) => e.startsWith("close")));
  });
});

describe("the spawner and its engine", () => {
  /** Runs `body` in a separate Node process that uses a spawner; returns its stdout lines. */
  function engine(body: string) {
    const script = join(dir, `engine-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(
      script,
      `import { Spawner } from ${JSON.stringify(join(import.meta.dirname, "../src/internal/spawner.ts"))};
const spawner = new Spawner();
const child = spawner.spawn({ file: process.execPath, args: [${JSON.stringify(CHILD)}], cwd: ${JSON.stringify(dir)}, env: {} });
${body}
`,
    );
    const proc = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      proc.once("exit", (code) => resolve(code)),
    );
    return { proc, lines: () => out.split("\n").filter(Boolean), exited };
  }

  it("lets the engine exit once its processes are done (an idle spawner keeps nothing alive)", async () => {
    const e = engine(
      `child.on("message", () => child.send({ type: "exit", code: 0 }));
child.on("close", (code) => console.log("closed", code, spawner.pid));`,
    );
    expect(await e.exited).toBe(0);
    const [line] = e.lines();
    expect(line).toMatch(/^closed 0 \d+$/);
    const spawnerPid = Number(line?.split(" ")[2]);
    await until(() => !alive(spawnerPid), 10_000);
  });

  it("ends when the engine dies while a socket handed to it awaits its acknowledgement", async () => {
    // An engine that asks for a process and dies without ever reading the spawner's answer:
    // Node then never emits `disconnect` in the spawner.
    const script = join(dir, "engine-mute.mjs");
    writeFileSync(
      script,
      `import { spawn } from "node:child_process";
const spawner = spawn(process.execPath, [${JSON.stringify(spawnerEntryPath())}], { stdio: ["ignore", "ignore", "ignore", "ipc"] });
spawner.send({ type: "spawn", id: 1, file: process.execPath, args: [${JSON.stringify(CHILD)}], cwd: ${JSON.stringify(dir)}, env: {} }, () => {
  console.log(spawner.pid);
  const end = Date.now() + 3000;
  while (Date.now() < end) {} // the spawner answers meanwhile; nothing here reads it
  process.kill(process.pid, "SIGKILL");
});
`,
    );
    const proc = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => proc.once("exit", resolve));
    const spawnerPid = Number(out.trim());
    expect(spawnerPid).toBeGreaterThan(0);
    try {
      await until(() => !alive(spawnerPid), 10_000);
    } finally {
      if (alive(spawnerPid)) process.kill(spawnerPid, "SIGKILL");
    }
  });

  it("never lets a run process or the spawner outlive an engine that is killed", async () => {
    const e = engine(`child.on("message", (m) => console.log(m.pid, spawner.pid));`);
    await until(() => e.lines().length === 1);
    const [childPid, spawnerPid] = (e.lines()[0] as string).split(" ").map(Number) as [
      number,
      number,
    ];
    expect(alive(childPid)).toBe(true);
    e.proc.kill("SIGKILL");
    await e.exited;
    // The run process's channel led to the engine: it ends on its disconnect, the spawner too.
    await until(() => !alive(childPid) && !alive(spawnerPid), 10_000);
  });
});

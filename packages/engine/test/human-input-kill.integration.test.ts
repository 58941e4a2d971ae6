/**
 * Human input survives engine crashes: an engine process SIGKILLed while a run waits for a
 * person is restarted on the same database, the run re-attaches to its one request and completes
 * with the answer; an engine killed right after it stored an answer — before the waiting program
 * heard of it — is restarted and the program receives the stored answer without asking again.
 * Real engine processes, real run processes, a real SQLite file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../src/index.ts";
import type { EventRow, RunRow } from "../src/index.ts";
import { makeEngine, tempDir } from "./helpers.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/human-input-engine.ts", import.meta.url));

let dir: ReturnType<typeof tempDir>;
const processes: EngineProcess[] = [];

beforeEach(() => {
  dir = tempDir();
});

afterEach(async () => {
  for (const proc of processes.splice(0)) await proc.kill();
  dir.cleanup();
});

/** One fixture engine process and what it printed. */
class EngineProcess {
  readonly events: EventRow[] = [];
  readonly lines: string[] = [];
  readonly exited: Promise<NodeJS.Signals | null>;
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = "";

  constructor(dataDir: string) {
    this.#child = spawn(process.execPath, [FIXTURE, dataDir], { stdio: ["pipe", "pipe", "pipe"] });
    let buffer = "";
    this.#child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr += chunk;
    });
    this.#child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf("\n");
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("event ")) this.events.push(JSON.parse(line.slice(6)) as EventRow);
        else this.lines.push(line);
        newline = buffer.indexOf("\n");
      }
    });
    this.exited = new Promise((resolve) =>
      this.#child.once("exit", (_code, signal) => resolve(signal)),
    );
  }

  send(command: string): void {
    this.#child.stdin.write(`${command}\n`);
  }

  /** The payload of the first printed line starting with `prefix `. */
  async line(prefix: string, timeoutMs = 30_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => line.startsWith(`${prefix} `));
      if (found !== undefined) return found.slice(prefix.length + 1);
      if (Date.now() > end) {
        throw new Error(`no "${prefix}" line in time; stderr:\n${this.#stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves once the run has `count` `run_status <status>` events published by this process. */
  async status(runId: string, status: string, count = 1): Promise<void> {
    const end = Date.now() + 30_000;
    while (
      this.events.filter(
        (row) =>
          row.runId === runId && row.event.kind === "run_status" && row.event.status === status,
      ).length < count
    ) {
      if (Date.now() > end) throw new Error(`run ${runId} never reached ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGKILL");
    }
    await this.exited;
  }
}

function start(): EngineProcess {
  const proc = new EngineProcess(dir.path);
  processes.push(proc);
  return proc;
}

/** Reads the data dir with a fresh in-process engine (after every engine process has exited). */
async function inspect<T>(read: (engine: Engine) => T): Promise<T> {
  const { engine } = makeEngine(dir.path);
  try {
    return read(engine);
  } finally {
    await engine.closeGracefully({ childGraceMs: 500 });
  }
}

describe("human input across engine crashes", () => {
  it("re-attaches after a SIGKILL while waiting and completes with the answer", async () => {
    const first = start();
    await first.line("booted");
    first.send("start");
    const runId = await first.line("started");
    await first.status(runId, "awaiting_input");
    await first.kill();

    const second = start();
    const boot = JSON.parse(await second.line("booted")) as { resumed: string[] };
    expect(boot.resumed).toContain(runId);
    second.send(`wait ${runId}`);
    await second.status(runId, "awaiting_input");
    second.send(`answer ${runId} {"value":"Ship","isOther":false}`);
    const done = JSON.parse(await second.line("done")) as RunRow;
    expect(done).toMatchObject({ status: "completed", output: { value: "Ship", isOther: false } });
    await second.kill();

    await inspect((engine) => {
      const requests = engine.listInputRequests({ runId });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ status: "resolved", key: "ship" });
      const events = engine.store.listEvents(runId);
      expect(events.filter((e) => e.event.kind === "human_input_requested")).toHaveLength(1);
      expect(events.filter((e) => e.event.kind === "human_input_resolved")).toHaveLength(1);
      const cursors = events.map((e) => e.cursor);
      expect(cursors.every((c, i) => i === 0 || c > (cursors[i - 1] ?? 0))).toBe(true);
      const ended = events.filter(
        (e) => e.event.kind === "run_status" && e.event.status === "completed",
      );
      expect(ended).toHaveLength(1);
    });
  });

  it("gives the stored answer to a program whose engine died right after storing it, without asking again", async () => {
    const first = start();
    await first.line("booted");
    first.send("start");
    const runId = await first.line("started");
    await first.status(runId, "awaiting_input");
    first.send(`answer-and-die ${runId} {"value":"Hold"}`);
    expect(await first.exited).toBe("SIGKILL");

    const second = start();
    const boot = JSON.parse(await second.line("booted")) as { resumed: string[] };
    expect(boot.resumed).toContain(runId);
    second.send(`wait ${runId}`);
    const done = JSON.parse(await second.line("done")) as RunRow;
    expect(done).toMatchObject({ status: "completed", output: { value: "Hold", isOther: false } });
    // After the restart the run never waited again: pending, running, completed.
    const afterRestart = second.events
      .filter((row) => row.runId === runId && row.event.kind === "run_status")
      .map((row) => (row.event.kind === "run_status" ? row.event.status : ""));
    expect(afterRestart).toEqual(["pending", "running", "completed"]);
    expect(second.events.some((row) => row.event.kind === "human_input_requested")).toBe(false);
    await second.kill();

    await inspect((engine) => {
      const events = engine.store.listEvents(runId);
      expect(events.filter((e) => e.event.kind === "human_input_requested")).toHaveLength(1);
      expect(engine.listInputRequests({ runId })).toHaveLength(1);
      const printed = events
        .map((e) => (e.event.kind === "program_output" ? e.event.text : ""))
        .join("");
      expect(printed).toContain("answered Hold");
    });
  });
});

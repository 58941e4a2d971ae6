/**
 * The `bash` built-in: runs one command with `bash -c` in the working directory (or a `cwd`
 * below it), no stdin, a timeout that kills the whole process group, stdout and stderr each
 * capped keeping head and tail, and streamed live to the loop as it arrives (up to
 * {@link BASH_LIVE_CAP} bytes per stream). Redirection and command/process substitution are
 * refused before anything runs. A non-zero exit is a normal result (the model sees the code); a timeout or a
 * refusal is a tool error.
 */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { EngineError } from "@promenade/workflow/errors";
import type { AgentTool, ToolCallContext } from "../tools.ts";
import { optInt, optStr, str } from "./args.ts";
import type { BuiltinContext } from "./context.ts";
import { insidePath } from "./paths.ts";
import { refusedShellSyntax } from "./shell-check.ts";

/** Default and maximum command time. */
export const BASH_DEFAULT_TIMEOUT_MS = 60_000;
export const BASH_MAX_TIMEOUT_MS = 600_000;
/** Bytes kept per stream (half head, half tail). */
export const BASH_STREAM_CAP = 32 * 1024;
/**
 * Bytes of each stream sent live (as `tool_output_delta`); past it one note says the live view
 * stops, so a command printing without end cannot flood the run's event log. The result keeps
 * its head and tail regardless.
 */
export const BASH_LIVE_CAP = 256 * 1024;

/** Forwards one stream's bytes as text to the live view, up to {@link BASH_LIVE_CAP} bytes. */
class LiveStream {
  readonly #decoder = new StringDecoder("utf8");
  readonly #call: ToolCallContext | undefined;
  readonly #stream: "stdout" | "stderr";
  #sent = 0;

  constructor(call: ToolCallContext | undefined, stream: "stdout" | "stderr") {
    this.#call = call;
    this.#stream = stream;
  }

  push(chunk: Buffer): void {
    if (this.#call === undefined || this.#sent >= BASH_LIVE_CAP) return;
    const room = BASH_LIVE_CAP - this.#sent;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#sent += part.length;
    let text = this.#decoder.write(part);
    if (this.#sent >= BASH_LIVE_CAP) {
      text += `${this.#decoder.end()}\n[live output stops after ${BASH_LIVE_CAP} bytes; the result keeps the head and tail]\n`;
    }
    this.#call.output(this.#stream, text);
  }

  end(): void {
    if (this.#call === undefined || this.#sent >= BASH_LIVE_CAP) return;
    this.#call.output(this.#stream, this.#decoder.end());
  }
}

/** Collects a stream keeping its first and last `cap / 2` bytes. */
class HeadTail {
  readonly #half: number;
  #head = Buffer.alloc(0);
  #tail = Buffer.alloc(0);
  #dropped = 0;

  constructor(cap: number) {
    this.#half = Math.floor(cap / 2);
  }

  push(chunk: Buffer): void {
    if (this.#head.length < this.#half) {
      const take = Math.min(this.#half - this.#head.length, chunk.length);
      this.#head = Buffer.concat([this.#head, chunk.subarray(0, take)]);
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0) return;
    const tail = Buffer.concat([this.#tail, chunk]);
    const excess = tail.length - this.#half;
    if (excess > 0) this.#dropped += excess;
    this.#tail = excess > 0 ? tail.subarray(excess) : tail;
  }

  text(): string {
    const head = this.#head.toString("utf8");
    const tail = this.#tail.toString("utf8");
    return this.#dropped === 0
      ? head + tail
      : `${head}\n[… ${this.#dropped} bytes omitted …]\n${tail}`;
  }
}

export function bashTool(ctx: BuiltinContext): AgentTool {
  return {
    spec: {
      name: "bash",
      description:
        "Run a shell command (bash -c) in the working directory, without stdin. `cwd` is a " +
        `directory below the working directory; \`timeoutMs\` defaults to ${BASH_DEFAULT_TIMEOUT_MS} ` +
        `(max ${BASH_MAX_TIMEOUT_MS}). Redirection (< >) and command or process substitution ` +
        "($(...), backticks, <(...)) are refused: use the file tools to write files. Output is " +
        `capped at ${BASH_STREAM_CAP / 1024} KB per stream.`,
      inputSchema: {
        type: "object",
        required: ["command"],
        properties: {
          command: { type: "string" },
          cwd: { type: "string" },
          timeoutMs: { type: "integer", minimum: 1, maximum: BASH_MAX_TIMEOUT_MS },
        },
      },
    },
    async execute(input, call) {
      const command = str(input, "command");
      if (command.trim() === "") throw new EngineError("VALIDATION", `"command" is empty.`);
      const refused = refusedShellSyntax(command);
      if (refused !== null) {
        throw new EngineError(
          "VALIDATION",
          `The command was refused: ${refused} is not allowed. Use the file tools (read, write, edit) for file contents.`,
        );
      }
      const cwdGiven = optStr(input, "cwd");
      const cwd = cwdGiven === undefined ? ctx.root : insidePath(ctx.root, cwdGiven, "cwd");
      if (!(await stat(cwd).catch(() => null))?.isDirectory()) {
        throw new EngineError(
          "VALIDATION",
          `"cwd" ${JSON.stringify(cwdGiven)} is not a directory.`,
        );
      }
      const timeoutMs = Math.min(
        optInt(input, "timeoutMs") ?? BASH_DEFAULT_TIMEOUT_MS,
        BASH_MAX_TIMEOUT_MS,
      );
      return runCommand(command, cwd, timeoutMs, call);
    },
  };
}

async function runCommand(
  command: string,
  cwd: string,
  timeoutMs: number,
  call: ToolCallContext | undefined,
): Promise<string> {
  const started = Date.now();
  const stdout = new HeadTail(BASH_STREAM_CAP);
  const stderr = new HeadTail(BASH_STREAM_CAP);
  const liveOut = new LiveStream(call, "stdout");
  const liveErr = new LiveStream(call, "stderr");
  const child = spawn("bash", ["-c", command], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout.on("data", (chunk: Buffer) => {
    stdout.push(chunk);
    liveOut.push(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr.push(chunk);
    liveErr.push(chunk);
  });
  let timedOut = false;
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (done, fail) => {
      child.once("error", fail);
      child.once("close", (code, signal) => done({ code, signal }));
    },
  ).finally(() => {
    clearTimeout(timer);
  });
  // Background children of the command must not outlive it.
  killGroup();
  liveOut.end();
  liveErr.end();
  const ms = Date.now() - started;
  const out = stdout.text();
  const err = stderr.text();
  const body = [
    out === "" ? "" : out.replace(/\n$/, ""),
    err === "" ? "" : `[stderr]\n${err.replace(/\n$/, "")}`,
  ]
    .filter((part) => part !== "")
    .join("\n");
  if (timedOut) {
    throw new EngineError(
      "VALIDATION",
      `The command timed out after ${timeoutMs} ms and was killed.${body === "" ? "" : `\n${body}`}`,
    );
  }
  const status =
    exit.code !== null ? `exit code ${exit.code}` : `killed by ${exit.signal ?? "a signal"}`;
  return `[${status}, ${ms} ms]${body === "" ? "" : `\n${body}`}`;
}

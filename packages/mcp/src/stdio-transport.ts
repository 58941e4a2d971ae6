/**
 * stdio transport: spawns the server without a shell, writes one JSON frame per
 * line, reads newline-delimited frames from stdout (non-JSON lines are noise and dropped), and
 * shuts down in stages: end stdin → SIGTERM → SIGKILL. Frames larger than `maxFrameBytes` kill
 * the connection instead of growing memory. Every child still running when our process exits
 * is killed from one `exit` handler, so no server outlives us. No protocol knowledge here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { McpError } from "./errors.ts";
import type { McpTransport } from "./ports.ts";
import type { JsonRpcMessage } from "./types.ts";

/** Options of {@link StdioTransport}. */
export interface StdioTransportOptions {
  /** Executable to spawn (no shell). */
  command: string;
  args?: readonly string[];
  /** Variables overlaid on the inherited environment. */
  env?: Record<string, string>;
  /** Working directory. Default: this process's cwd. */
  cwd?: string;
  /** What the child inherits from this process's environment. Default `"all"`. */
  inheritEnv?: "all" | "safe" | "none";
  /** What happens to the child's stderr. Default `"inherit"`. */
  stderr?: "inherit" | "pipe" | "ignore";
  /** Receives the child's stderr text (with `stderr: "pipe"`). */
  onStderr?: (text: string) => void;
  /** Names the server in errors. Default: `command`. */
  label?: string;
  /** Largest inbound frame in bytes before the connection is failed. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Wait after closing stdin before SIGTERM, in ms. Default 500. */
  stdinGraceMs?: number;
  /** Wait after SIGTERM before SIGKILL, in ms. Default 2000. */
  termGraceMs?: number;
}

const SAFE_ENV_KEYS =
  process.platform === "win32"
    ? [
        "APPDATA",
        "HOMEDRIVE",
        "HOMEPATH",
        "LOCALAPPDATA",
        "PATH",
        "PROCESSOR_ARCHITECTURE",
        "SYSTEMDRIVE",
        "SYSTEMROOT",
        "TEMP",
        "USERNAME",
        "USERPROFILE",
        "PROGRAMFILES",
      ]
    : ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

// Children alive right now; killed if this process exits without closing them.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killLiveChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Only an `exit` hook: a SIGTERM handler would stop SIGTERM from ending the host process.
    process.on("exit", killLiveChildren);
  }
  liveChildren.add(child);
}

function childEnv(options: StdioTransportOptions): NodeJS.ProcessEnv | undefined {
  const mode = options.inheritEnv ?? "all";
  if (mode === "all") {
    return options.env === undefined ? undefined : { ...process.env, ...options.env };
  }
  const base: NodeJS.ProcessEnv = {};
  if (mode === "safe") {
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && SAFE_ENV_KEYS.includes(key.toUpperCase())) base[key] = value;
    }
  }
  return { ...base, ...options.env };
}

/** Talks to an MCP server spawned as a child process over newline-delimited JSON on stdio. */
export class StdioTransport implements McpTransport {
  /** Names the server in errors. */
  readonly label: string;
  readonly #options: StdioTransportOptions;
  readonly #child: ChildProcess;
  readonly #maxFrameBytes: number;
  readonly #messageHandlers: ((message: unknown) => void)[] = [];
  #closeHandler: ((err: Error) => void) | null = null;
  #deathError: McpError | null = null;
  #deathReported = false;
  #closing: Promise<void> | null = null;
  #exited = false;
  #exitWaiters: (() => void)[] = [];
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;

  /** Spawns the server at once; a spawn failure is reported through `onClose`. */
  constructor(options: StdioTransportOptions) {
    this.#options = options;
    this.label = options.label ?? options.command;
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const stderrMode = options.stderr ?? "inherit";
    this.#child = spawn(options.command, [...(options.args ?? [])], {
      cwd: options.cwd,
      env: childEnv(options),
      stdio: ["pipe", "pipe", stderrMode],
      shell: false,
      windowsHide: true,
    });
    track(this.#child);
    this.#child.on("error", (error) => this.#onSpawnError(error));
    this.#child.on("exit", (code, signal) => this.#onExit(code, signal));
    // EPIPE after the child died surfaces as its exit; the stream error itself is noise.
    this.#child.stdin?.on("error", () => undefined);
    this.#child.stdout?.on("data", (chunk: Buffer) => this.#onStdout(chunk));
    if (stderrMode === "pipe" && this.#child.stderr) {
      const decoder = new StringDecoder("utf8");
      const onStderr = options.onStderr;
      this.#child.stderr.on("data", (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (onStderr && text !== "") onStderr(text);
      });
    }
  }

  /** The child's pid (undefined if the spawn failed). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Writes one frame as a JSON line. Rejects after death (`SPAWN_FAILED`/`PROCESS_EXITED`) or close (`CLOSED`). */
  send(message: JsonRpcMessage): Promise<void> {
    if (this.#deathError) return Promise.reject(this.#deathError);
    const stdin = this.#child.stdin;
    if (this.#closing || !stdin || stdin.writableEnded || stdin.destroyed) {
      return Promise.reject(
        new McpError("CLOSED", `MCP server "${this.label}": stdin is closed`, {
          label: this.label,
        }),
      );
    }
    const line = `${JSON.stringify(message)}\n`;
    return new Promise((resolve, reject) => {
      stdin.write(line, "utf8", (error) => {
        if (!error) {
          resolve();
          return;
        }
        reject(
          this.#deathError ??
            new McpError(
              "CLOSED",
              `MCP server "${this.label}": writing to stdin failed: ${error.message}`,
              {
                label: this.label,
                cause: error,
              },
            ),
        );
      });
    });
  }

  /** Registers a receiver of every inbound frame. */
  onMessage(cb: (message: unknown) => void): void {
    this.#messageHandlers.push(cb);
  }

  /** Registers the death callback; a death that already happened is delivered at once. */
  onClose(cb: (err: Error) => void): void {
    this.#closeHandler = cb;
    if (this.#deathError && !this.#deathReported) {
      this.#deathReported = true;
      cb(this.#deathError);
    }
  }

  /**
   * Staged shutdown: end stdin, wait `stdinGraceMs`, SIGTERM, wait `termGraceMs`, SIGKILL.
   * Resolves once the process exited or SIGKILL was sent. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#exited || this.#child.pid === undefined) return;
    this.#child.stdin?.end();
    if (await this.#waitExit(this.#options.stdinGraceMs ?? 500)) return;
    this.#child.kill("SIGTERM");
    if (await this.#waitExit(this.#options.termGraceMs ?? 2000)) return;
    this.#child.kill("SIGKILL");
  }

  #waitExit(ms: number): Promise<boolean> {
    if (this.#exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #die(error: McpError): void {
    if (this.#deathError) return;
    this.#deathError = error;
    if (this.#closeHandler && !this.#deathReported) {
      this.#deathReported = true;
      this.#closeHandler(error);
    }
  }

  #onSpawnError(error: Error & { code?: string }): void {
    if (this.#child.pid !== undefined) {
      // A running child's 'error' (e.g. kill failure) is not a spawn failure; its exit reports it.
      return;
    }
    this.#exited = true;
    liveChildren.delete(this.#child);
    this.#die(
      new McpError(
        "SPAWN_FAILED",
        `MCP server "${this.label}": failed to spawn "${this.#options.command}": ${error.message}`,
        {
          label: this.label,
          hint: `check that "${this.#options.command}" is installed and on this machine's PATH`,
          cause: error,
        },
      ),
    );
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    liveChildren.delete(this.#child);
    for (const waiter of this.#exitWaiters.splice(0)) waiter();
    if (this.#closing) return;
    const how = signal ? `signal ${signal}` : `code ${code ?? "unknown"}`;
    this.#die(
      new McpError("PROCESS_EXITED", `MCP server "${this.label}" exited unexpectedly (${how})`, {
        label: this.label,
        hint: "its stderr (inherited by default, or passed to onStderr) says why",
      }),
    );
  }

  #onStdout(chunk: Buffer): void {
    if (this.#deathError) return;
    let start = 0;
    let newline = chunk.indexOf(0x0a, start);
    while (newline !== -1) {
      const piece = chunk.subarray(start, newline);
      if (this.#bufferedBytes + piece.length > this.#maxFrameBytes) {
        this.#oversized();
        return;
      }
      this.#chunks.push(piece);
      const line = Buffer.concat(this.#chunks).toString("utf8");
      this.#chunks = [];
      this.#bufferedBytes = 0;
      this.#deliverLine(line);
      if (this.#deathError) return;
      start = newline + 1;
      newline = chunk.indexOf(0x0a, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#bufferedBytes += rest.length;
      if (this.#bufferedBytes > this.#maxFrameBytes) {
        this.#oversized();
        return;
      }
      this.#chunks.push(rest);
    }
  }

  #deliverLine(line: string): void {
    const trimmed = line.trim();
    if (trimmed === "") return;
    let frame: unknown;
    try {
      frame = JSON.parse(trimmed);
    } catch {
      // Servers and their libraries print banners to stdout; a non-JSON line is noise.
      return;
    }
    for (const handler of this.#messageHandlers) handler(frame);
  }

  #oversized(): void {
    this.#chunks = [];
    this.#bufferedBytes = 0;
    this.#die(
      new McpError(
        "PROTOCOL",
        `MCP server "${this.label}" sent a frame larger than ${this.#maxFrameBytes} bytes`,
        {
          label: this.label,
          hint: "raise maxFrameBytes if such results are expected; otherwise the server is writing garbage to stdout",
        },
      ),
    );
    // The stream is now unframeable: stop the server rather than keep reading it.
    void this.close();
  }
}

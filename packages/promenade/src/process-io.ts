/**
 * The real process as a `CliIo`: argv aside, this is the one place the CLI touches `process`
 * (environment, working directory, stdio, signals, exit). Used by `main.ts` and
 * `server-main.ts`; everything else takes a `CliIo`.
 */
import type { CliIo, CliStream } from "./io.ts";

function stream(target: NodeJS.WriteStream): CliStream {
  return {
    write: (text) => {
      target.write(text);
    },
    get isTTY() {
      return target.isTTY === true;
    },
    get columns() {
      return target.columns;
    },
  };
}

/** This process, as commands see it. */
export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => {
        process.off(signal, handler);
      };
    },
    exit: (code) => process.exit(code),
  };
}

/**
 * A `CliIo` for unit tests: captured stdout/stderr, a chosen environment and TTY-ness, signal
 * handlers that a test can fire, and `exit` recorded instead of ending the test process.
 */
import type { CliIo } from "../src/io.ts";

/** A fake process plus what it recorded. */
export interface FakeIo extends CliIo {
  out: () => string;
  err: () => string;
  exits: number[];
  /** Fire the handlers installed for `signal`. */
  signal: (signal: "SIGINT" | "SIGTERM") => void;
}

/** Build a fake process. */
export function fakeIo(
  options: { env?: Record<string, string>; cwd?: string; tty?: boolean; stdin?: string } = {},
): FakeIo {
  let out = "";
  let err = "";
  const handlers = new Map<string, Set<() => void>>();
  const exits: number[] = [];
  const tty = options.tty ?? false;
  return {
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stdout: { write: (text) => void (out += text), isTTY: tty, columns: 100 },
    stderr: { write: (text) => void (err += text), isTTY: tty, columns: 100 },
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    onSignal: (signal, handler) => {
      const set = handlers.get(signal) ?? new Set();
      set.add(handler);
      handlers.set(signal, set);
      return () => set.delete(handler);
    },
    exit: (code) => void exits.push(code),
    out: () => out,
    err: () => err,
    exits,
    signal: (signal) => {
      for (const handler of handlers.get(signal) ?? []) handler();
    },
  };
}

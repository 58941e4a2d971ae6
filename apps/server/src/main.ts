#!/usr/bin/env node
/**
 * `promenade-server` entry: wires the real process (argv, environment, stderr, signals, exit)
 * into `boot`. The only module of the repository that reads `process.env` in server mode.
 */
import "@promenade/workflow/node-guard"; // first: a clear exit on Node < 22, before native code
import { boot } from "./boot.ts";

void boot({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  log: (line) => {
    process.stderr.write(`${line}\n`);
  },
  stdout: (text) => {
    process.stdout.write(text);
  },
  exit: (code) => {
    process.exit(code);
  },
  onSignal: (signal, handler) => {
    process.on(signal, handler);
  },
});

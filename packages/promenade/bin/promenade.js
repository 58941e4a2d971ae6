#!/usr/bin/env node
/* global process */
// The `promenade` command. Plain JavaScript on purpose: it must run on any Node.js to say which
// one it needs, before anything is imported (better-sqlite3 segfaults on Node 20).
const found = process.versions.node;
if (Number(found.split(".")[0]) < 22) {
  process.stderr.write(`Promenade needs Node.js >= 22 (found v${found})\n`);
  process.exit(1);
}
import("../dist/main.js").catch((error) => {
  process.stderr.write(`promenade: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

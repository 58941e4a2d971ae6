/**
 * `@promenade/workflow/node-guard`: imported first by every Promenade entry point (the engine,
 * the store, the server binary) so that an older Node.js stops with one clear line instead of a
 * native-module crash (better-sqlite3 segfaults on Node 20). A side effect by design and the only
 * one in this package; it loads nothing. Invariant: on Node < 22 the process prints
 * `Promenade needs Node.js >= 22 (found vX)` and exits 1 before any sibling import evaluates.
 */

/** The lowest Node.js major version Promenade runs on (the `engines` field of every package). */
export const MIN_NODE_MAJOR = 22;

const found = process.versions.node;
if (Number(found.split(".")[0]) < MIN_NODE_MAJOR) {
  process.stderr.write(`Promenade needs Node.js >= ${MIN_NODE_MAJOR} (found v${found})\n`);
  process.exit(1);
}

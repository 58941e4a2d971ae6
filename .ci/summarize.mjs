// Sums Vitest's "Tests  N passed | M failed" lines from a turbo log into one closing line, and
// repeats each failure's heading and first lines after it: the end of a long log is often all
// that is kept of a CI run, and the failures scroll far above it.
import { readFileSync } from "node:fs";

const text = readFileSync(process.argv[2], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
const lines = text.split("\n");
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const [index, line] of lines.entries()) {
  if (/\sFAIL\s/.test(line) || /Unhandled (Errors|Rejection)/.test(line)) {
    // The heading and the lines of the error that follow it (message, expected/received, where).
    const shown = lines.slice(index, index + 14).filter((l) => l.replace(/^\S+:\s/, "").trim());
    failures.push(...shown, "");
  }
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  for (const part of m[1].split("|")) {
    const p = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part);
    if (!p) continue;
    const n = Number(p[1]);
    if (p[2] === "passed") passed += n;
    else if (p[2] === "failed") failed += n;
    else skipped += n;
  }
}
if (failures.length > 0)
  console.log(["", "Failures (repeated from above):", ...failures].join("\n"));
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));

/**
 * Child process for the lock test: opens the store at argv[2] and keeps it open until stdin
 * closes (or it is killed). Prints "ready" once open, or "error <code> <message>" and exits 3.
 * Loads the built package, like crash-writer.ts.
 */
import { openStore } from "@promenade/store";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: hold-open.ts <db path>");
try {
  const store = openStore({ path });
  process.stdout.write("ready\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    store.close();
    process.exit(0);
  });
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`error ${String(code)} ${message}\n`);
  process.exit(3);
}

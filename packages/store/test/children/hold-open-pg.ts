/**
 * Child process for the PostgreSQL lock test: opens the store at the URL in argv[2] (exclusive,
 * the default) and keeps it open until stdin closes (or it is killed). Prints "ready" once open,
 * or "error <code> <message>" and exits 3. Loads the built package, like hold-open.ts.
 */
import { openPgStore } from "@promenade/store/pg";

const url = process.argv[2];
if (url === undefined) throw new Error("usage: hold-open-pg.ts <postgres url>");
try {
  const store = await openPgStore({ url });
  process.stdout.write("ready\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    void store.close().then(() => process.exit(0));
  });
} catch (error) {
  const { code, message } = error as { code?: string; message: string };
  process.stdout.write(`error ${String(code)} ${message}\n`);
  process.exit(3);
}
